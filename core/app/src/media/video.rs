//! Videos and animated GIFs, through ffprobe and ffmpeg (Debian's `ffmpeg` package) run as child
//! processes, never in the server's own address space: each under `prlimit` (address space and
//! CPU seconds), with a bounded thread count, a wall-clock timeout (killed after it), stdin
//! closed, the demuxer forced from the sniffed format and only the `file` protocol allowed (a
//! crafted upload cannot make ffmpeg open playlists, URLs or other files). Blocking: callers run
//! these on `spawn_blocking`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::config::MediaConfig;

/// Why a video could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VideoError {
    /// The upload itself is unusable or over a limit (422 at upload; a failed job later).
    #[error("Validation failed: {0}")]
    Rejected(String),
    /// The tools failed (missing, killed by a limit, timed out): worth another attempt.
    #[error("video processing failed: {0}")]
    Failed(String),
}

/// What ffprobe reports of a file's first video stream (and the container).
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub width: u32,
    pub height: u32,
    /// Seconds (the container's, else the stream's).
    pub duration: f64,
    /// As ffprobe writes it (`30/1`, `30000/1001`).
    pub frame_rate: String,
    /// Frames per second (0 when unknown).
    pub fps: f64,
    /// Bits per second of the whole file, when known.
    pub bitrate: Option<u64>,
    pub has_audio: bool,
}

/// What an upload becomes: a silent looping MP4 (`gifv`) or an H.264/AAC MP4 (`video`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Gifv,
    Video,
}

/// The demuxer for a sniffed extension (forced, so ffmpeg never guesses from content).
pub fn demuxer(ext: &str) -> Option<&'static str> {
    match ext {
        "mp4" => Some("mov"),
        "webm" => Some("matroska"),
        "gif" => Some("gif"),
        _ => None,
    }
}

/// A scratch directory for one job, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    /// A new empty directory under the system's temporary directory.
    pub fn new() -> Result<Self, VideoError> {
        let dir = std::env::temp_dir().join(format!("starling-media-{}", crate::signed_urls::new_token()));
        std::fs::create_dir_all(&dir).map_err(|e| VideoError::Failed(format!("cannot create {}: {e}", dir.display())))?;
        Ok(Scratch(dir))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `program args` under the configured limits; stdout goes to `stdout` when given.
fn run(program: &str, args: &[String], stdout: Option<&Path>, scratch: &Scratch, limits: &MediaConfig) -> Result<(), VideoError> {
    let timeout = Duration::from_secs(limits.ffmpeg_timeout_secs.max(1));
    let cpu = limits.ffmpeg_timeout_secs.max(1).saturating_mul(u64::from(limits.ffmpeg_threads.max(1)));
    let err_path = scratch.path(&format!("{program}-stderr.txt").replace('/', "_"));
    let err_file = std::fs::File::create(&err_path).map_err(|e| VideoError::Failed(format!("cannot create a log file: {e}")))?;
    let out = match stdout {
        Some(path) => Stdio::from(std::fs::File::create(path).map_err(|e| VideoError::Failed(format!("cannot create an output file: {e}")))?),
        None => Stdio::null(),
    };
    let mut command = Command::new(&limits.prlimit);
    command
        .arg(format!("--as={}", limits.ffmpeg_memory_limit))
        .arg(format!("--cpu={cpu}"))
        .arg("--")
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::from(err_file))
        .current_dir(&scratch.0);
    let mut child = command.spawn().map_err(|e| VideoError::Failed(format!("cannot start {program} (through {}): {e}", limits.prlimit)))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(VideoError::Failed(format!("{program} ran longer than {} s and was killed", timeout.as_secs())));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(VideoError::Failed(format!("cannot wait for {program}: {e}"))),
        }
    };
    if status.success() {
        return Ok(());
    }
    let log = std::fs::read_to_string(&err_path).unwrap_or_default();
    let tail: String = log.chars().rev().take(400).collect::<Vec<_>>().into_iter().rev().collect();
    Err(VideoError::Failed(format!("{program} exited with {status}: {}", tail.trim())))
}

fn input_args(input: &Path, ext: &str, threads: u32) -> Result<Vec<String>, VideoError> {
    let demuxer = demuxer(ext).ok_or_else(|| VideoError::Rejected("File content type is not supported".into()))?;
    Ok(vec![
        "-threads".into(),
        threads.to_string(),
        "-protocol_whitelist".into(),
        "file".into(),
        "-f".into(),
        demuxer.into(),
        "-i".into(),
        input.display().to_string(),
    ])
}

/// Probes `input` (of sniffed extension `ext`). A file ffprobe cannot read, or without a video
/// stream, is rejected.
pub fn probe(input: &Path, ext: &str, scratch: &Scratch, limits: &MediaConfig) -> Result<Probe, VideoError> {
    let mut args: Vec<String> = ["-v", "error", "-hide_banner", "-print_format", "json", "-show_format", "-show_streams"].map(String::from).to_vec();
    args.extend(input_args(input, ext, 1)?);
    let out = scratch.path("probe.json");
    match run(&limits.ffprobe, &args, Some(&out), scratch, limits) {
        Ok(()) => {}
        Err(VideoError::Failed(why)) if why.contains("exited with") => return Err(VideoError::Rejected("File could not be processed as a video".into())),
        Err(e) => return Err(e),
    }
    let text = std::fs::read(&out).map_err(|e| VideoError::Failed(format!("cannot read ffprobe's output: {e}")))?;
    parse_probe(&serde_json::from_slice(&text).map_err(|e| VideoError::Failed(format!("ffprobe wrote no JSON: {e}")))?)
}

fn parse_probe(v: &Value) -> Result<Probe, VideoError> {
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    let video = streams.iter().find(|s| s["codec_type"] == "video").ok_or_else(|| VideoError::Rejected("File has no video stream".into()))?;
    let number = |v: &Value| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
    let width = video["width"].as_u64().and_then(|w| u32::try_from(w).ok()).unwrap_or(0);
    let height = video["height"].as_u64().and_then(|h| u32::try_from(h).ok()).unwrap_or(0);
    if width == 0 || height == 0 {
        return Err(VideoError::Rejected("File could not be processed as a video".into()));
    }
    let rate = |key: &str| video[key].as_str().filter(|r| !r.starts_with('0')).map(str::to_owned);
    let frame_rate = rate("avg_frame_rate").or_else(|| rate("r_frame_rate")).unwrap_or_else(|| "0/1".into());
    let fps = match frame_rate.split_once('/') {
        Some((n, d)) => n.parse::<f64>().unwrap_or(0.0) / d.parse::<f64>().unwrap_or(1.0).max(1.0),
        None => frame_rate.parse().unwrap_or(0.0),
    };
    let duration = number(&v["format"]["duration"]).or_else(|| number(&video["duration"])).unwrap_or(0.0);
    Ok(Probe {
        width,
        height,
        duration,
        frame_rate,
        fps,
        bitrate: number(&v["format"]["bit_rate"]).map(|b| b as u64),
        has_audio: streams.iter().any(|s| s["codec_type"] == "audio"),
    })
}

/// Checks a probe against the configured limits (duration and picture size).
pub fn check(probe: &Probe, limits: &MediaConfig) -> Result<(), VideoError> {
    if probe.duration > limits.video_duration_limit_secs as f64 {
        return Err(VideoError::Rejected(format!("Video is longer than {} seconds", limits.video_duration_limit_secs)));
    }
    if u64::from(probe.width) * u64::from(probe.height) > limits.image_matrix_limit {
        return Err(VideoError::Rejected(format!("Video has more than {} pixels", limits.image_matrix_limit)));
    }
    Ok(())
}

/// Transcodes `input` into an MP4 at `output`: H.264 (yuv420p, within `max_video_side` on each
/// side, at most 60 frames a second, `+faststart`) with AAC audio for videos, silent for GIFs;
/// every metadata block dropped; cut at the duration limit.
pub fn transcode(input: &Path, ext: &str, target: Target, probe: &Probe, output: &Path, scratch: &Scratch, limits: &MediaConfig) -> Result<(), VideoError> {
    let threads = limits.ffmpeg_threads.max(1);
    let side = limits.max_video_side.max(2);
    let mut args: Vec<String> = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"].map(String::from).to_vec();
    args.extend(input_args(input, ext, threads)?);
    args.extend(["-map_metadata", "-1", "-map_chapters", "-1", "-map", "0:v:0"].map(String::from));
    let audio = target == Target::Video && probe.has_audio;
    if audio {
        args.extend(["-map", "0:a:0", "-c:a", "aac", "-b:a", "128k", "-ac", "2"].map(String::from));
    } else {
        args.push("-an".into());
    }
    args.extend([
        "-sn".into(),
        "-dn".into(),
        "-vf".into(),
        format!("scale=w='min({side},iw)':h='min({side},ih)':force_original_aspect_ratio=decrease:force_divisible_by=2"),
        "-fpsmax".into(),
        "60".into(),
        "-c:v".into(),
        "libx264".into(),
        "-preset".into(),
        "veryfast".into(),
        "-crf".into(),
        "23".into(),
        "-pix_fmt".into(),
        "yuv420p".into(),
        "-threads".into(),
        threads.to_string(),
        "-filter_threads".into(),
        "1".into(),
        "-t".into(),
        limits.video_duration_limit_secs.to_string(),
        "-movflags".into(),
        "+faststart".into(),
        "-f".into(),
        "mp4".into(),
        output.display().to_string(),
    ]);
    run(&limits.ffmpeg, &args, None, scratch, limits)
}

/// The first frame of an MP4 as a PNG at `output` (the poster the preview is made from).
pub fn poster(input: &Path, output: &Path, scratch: &Scratch, limits: &MediaConfig) -> Result<(), VideoError> {
    let mut args: Vec<String> = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"].map(String::from).to_vec();
    args.extend(input_args(input, "mp4", 1)?);
    args.extend(["-frames:v", "1", "-an", "-c:v", "png", "-f", "image2"].map(String::from));
    args.push(output.display().to_string());
    run(&limits.ffmpeg, &args, None, scratch, limits)
}

/// Mastodon's `meta` of a processed video: top-level size, duration and frame rate, `original`
/// (the MP4's) and `small` (the preview's).
pub fn meta(probe: &Probe, small: Option<(u32, u32)>) -> Value {
    let aspect = |w: u32, h: u32| f64::from(w) / f64::from(h.max(1));
    let whole = probe.duration.floor() as u64;
    let length = format!("{}:{:02}:{:02}.{:02}", whole / 3600, whole / 60 % 60, whole % 60, ((probe.duration.fract()) * 100.0).round().min(99.0) as u64);
    let fps = probe.fps.round() as u64;
    let mut meta = json!({
        "length": length,
        "duration": probe.duration,
        "fps": fps,
        "size": format!("{}x{}", probe.width, probe.height),
        "width": probe.width,
        "height": probe.height,
        "aspect": aspect(probe.width, probe.height),
        "original": {
            "width": probe.width,
            "height": probe.height,
            "frame_rate": probe.frame_rate,
            "duration": probe.duration,
            "bitrate": probe.bitrate,
        },
    });
    if let (Some((w, h)), Some(map)) = (small, meta.as_object_mut()) {
        map.insert("small".into(), json!({ "width": w, "height": h, "size": format!("{w}x{h}"), "aspect": aspect(w, h) }));
    }
    meta
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn probes_are_read_from_ffprobes_json() {
        let v = json!({
            "streams": [
                {"codec_type": "video", "width": 320, "height": 240, "avg_frame_rate": "25/1", "r_frame_rate": "25/1"},
                {"codec_type": "audio"}
            ],
            "format": {"duration": "2.040000", "bit_rate": "123456"}
        });
        let p = parse_probe(&v).unwrap();
        assert_eq!((p.width, p.height, p.fps, p.has_audio, p.bitrate), (320, 240, 25.0, true, Some(123_456)));
        assert!((p.duration - 2.04).abs() < 1e-9);
        let m = meta(&p, Some((400, 300)));
        assert_eq!(m["length"], "0:00:02.04");
        assert_eq!(m["original"]["frame_rate"], "25/1");
        assert_eq!(m["small"]["size"], "400x300");
        assert!(matches!(parse_probe(&json!({"streams": [{"codec_type": "audio"}]})), Err(VideoError::Rejected(_))));
    }

    #[test]
    fn limits_refuse_long_or_huge_videos() {
        let limits = MediaConfig { video_duration_limit_secs: 10, image_matrix_limit: 1000, ..MediaConfig::default() };
        let p = Probe { width: 30, height: 30, duration: 5.0, frame_rate: "1/1".into(), fps: 1.0, bitrate: None, has_audio: false };
        assert!(check(&p, &limits).is_ok());
        assert!(check(&Probe { duration: 11.0, ..p.clone() }, &limits).is_err());
        assert!(check(&Probe { width: 40, ..p }, &limits).is_err());
    }
}

/// A processed video: the MP4, what ffprobe says of it, and the poster's preview and blurhash
/// (when asked for: uploads with a thumbnail, and GIFs, have theirs already).
#[derive(Debug, Clone)]
pub struct Transcoded {
    pub mp4: Vec<u8>,
    pub probe: Probe,
    pub poster: Option<(super::pipeline::Rendition, String)>,
}

/// Probes `bytes` as uploaded (extension `ext`) and checks the limits: what an upload does
/// before it is accepted, so what is detectable is refused at once.
pub fn inspect(bytes: &[u8], ext: &str, limits: &MediaConfig) -> Result<Probe, VideoError> {
    let scratch = Scratch::new()?;
    let input = scratch.path(&format!("upload.{ext}"));
    std::fs::write(&input, bytes).map_err(|e| VideoError::Failed(format!("cannot write {}: {e}", input.display())))?;
    let probe = probe(&input, ext, &scratch, limits)?;
    check(&probe, limits)?;
    Ok(probe)
}

/// The whole job: probe, check, transcode to `target`, probe the result, and (when `poster`)
/// take its first frame through the image pipeline for the preview and blurhash.
pub fn process(bytes: &[u8], ext: &str, target: Target, poster_wanted: bool, limits: &MediaConfig) -> Result<Transcoded, VideoError> {
    let scratch = Scratch::new()?;
    let input = scratch.path(&format!("upload.{ext}"));
    std::fs::write(&input, bytes).map_err(|e| VideoError::Failed(format!("cannot write {}: {e}", input.display())))?;
    let source = probe(&input, ext, &scratch, limits)?;
    check(&source, limits)?;
    let output = scratch.path("original.mp4");
    transcode(&input, ext, target, &source, &output, &scratch, limits)?;
    let probe = probe(&output, "mp4", &scratch, limits)?;
    let mp4 = std::fs::read(&output).map_err(|e| VideoError::Failed(format!("cannot read the transcoded file: {e}")))?;
    if u64::try_from(mp4.len()).unwrap_or(u64::MAX) > limits.video_size_limit {
        return Err(VideoError::Rejected(format!("Video is larger than {} bytes once transcoded", limits.video_size_limit)));
    }
    let poster = if poster_wanted {
        let frame = scratch.path("poster.png");
        poster(&output, &frame, &scratch, limits)?;
        let png = std::fs::read(&frame).map_err(|e| VideoError::Failed(format!("cannot read the poster: {e}")))?;
        Some(super::pipeline::poster(&png, limits).map_err(|e| VideoError::Rejected(e.to_string()))?)
    } else {
        None
    };
    Ok(Transcoded { mp4, probe, poster })
}
