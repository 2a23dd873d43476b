//! Video and GIF processing off the request path, durable across restarts. An accepted upload
//! is committed with its job entry (`MX`, due at once); the uploading process starts on it at
//! once, and every core process scans the due entries every `[media] processing_scan_ms`, so a
//! job whose process died (or that was accepted while no process ran) is resumed. A process
//! claims a job by moving its entry to `now + lease` (delete `Exists` + put `NotExists`, one
//! commit): one process works on each job at a time; another takes it over only when the lease
//! has passed. The result is committed with the deletion of the claimed entry (`Exists`), so a
//! process whose lease was taken over cannot overwrite the new holder's work. After
//! `MAX_ATTEMPTS` claims, or when the file is unusable, the attachment is marked failed.

use std::time::Duration;

use shared::id::Id;
use tokio::sync::watch;

use super::pipeline::Rendition;
use super::video::{self, Target, Transcoded, VideoError};
use super::writes::{self, JobConflict};
use crate::error::ApiResult;
use crate::model::{self, MediaFile, MediaJob, MediaRecord};
use crate::ports::Query;
use crate::{App, keys, now_ms, signed_urls};

/// Entries read per page of the due jobs.
const PAGE: usize = 50;
/// Claims after which a job that keeps failing (crashes, timeouts) is marked failed.
pub const MAX_ATTEMPTS: u32 = 3;

/// How long after a failure of the tools a job is tried again.
const RETRY_AFTER_MS: u64 = 10_000;

/// How long a claim lasts: the longest a job may run (the tools' timeout, three runs) and a margin.
pub fn lease_ms(app: &App) -> u64 {
    app.config.media.ffmpeg_timeout_secs.saturating_mul(3).saturating_add(60).saturating_mul(1000)
}

/// Scans the due jobs until `stop` turns true.
pub async fn run(app: App, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_millis(app.config.media.processing_scan_ms.max(10));
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(e) = process_due(&app, now_ms()).await {
            tracing::warn!(error = ?e, "cannot process due media jobs; retrying at the next scan");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Works on every job due at `now_ms`; returns how many this call finished (done or failed).
pub async fn process_due(app: &App, now_ms: u64) -> ApiResult<usize> {
    let mut finished = 0;
    let mut query = Query { before: Some(keys::media_jobs_due_before(now_ms)), ..Query::partition(keys::MEDIA_JOBS, PAGE) };
    loop {
        let page = app.store.query(&query).await?;
        for item in &page {
            let job: MediaJob = model::decode(item)?;
            let Some(due) = item.key.sk.split('#').next().and_then(|ms| ms.parse::<u64>().ok()) else { continue };
            if work(app, due, job).await? {
                finished += 1;
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE => query.after = Some(last.key.sk.clone()),
            _ => return Ok(finished),
        }
    }
}

/// Starts on a job just accepted (due at `due`) in the background.
pub fn start(app: &App, due: u64, job: MediaJob) {
    if !app.config.media.process_jobs {
        return;
    }
    let app = app.clone();
    tokio::spawn(async move {
        if let Err(e) = work(&app, due, job).await {
            tracing::warn!(error = ?e, media = %job.media, "media job failed; the scan retries it");
        }
    });
}

/// Claims the job at `due` and processes it; `false` when another process holds it (or nothing
/// came of it this time: the tools failed and the lease will bring it back).
pub async fn work(app: &App, due: u64, job: MediaJob) -> ApiResult<bool> {
    let _slot = app.video_jobs.acquire().await.map_err(|_| crate::error::ApiError::Unavailable("media processing is shutting down".into()))?;
    let held = MediaJob { media: job.media, attempt: job.attempt + 1 };
    let until = now_ms() + lease_ms(app);
    if writes::claim_job(app, due, job, until, held).await?.is_err() {
        return Ok(false);
    }
    let Some(record) = app.media_records(&[job.media]).await?.remove(&job.media) else {
        // Deleted meanwhile: nothing to do.
        let _ = writes::drop_job(app, until, job.media).await?;
        return Ok(true);
    };
    let Some(processing) = record.processing.filter(|p| !p.failed) else {
        let _ = writes::drop_job(app, until, job.media).await?;
        return Ok(true);
    };
    if held.attempt > MAX_ATTEMPTS {
        tracing::warn!(media = %job.media, attempts = job.attempt, "media job failed every attempt; marked failed");
        return fail(app, until, record).await;
    }
    let Some(source) = app.media.get(&record.original.key).await? else {
        tracing::warn!(media = %job.media, key = record.original.key, "the upload of a media job is gone; marked failed");
        return fail(app, until, record).await;
    };
    let limits = app.config.media.clone();
    let ext = record.original.key.rsplit('.').next().unwrap_or("").to_owned();
    let target = if processing.gifv { Target::Gifv } else { Target::Video };
    let poster_wanted = record.small.is_none();
    let outcome = tokio::task::spawn_blocking(move || video::process(&source, &ext, target, poster_wanted, &limits)).await.map_err(crate::join_error)?;
    let transcoded = match outcome {
        Ok(t) => t,
        Err(VideoError::Rejected(why)) => {
            tracing::info!(media = %job.media, why, "uploaded video refused by processing; marked failed");
            return fail(app, until, record).await;
        }
        Err(VideoError::Failed(why)) => {
            // Due again after a pause (attempts are counted at each claim).
            tracing::warn!(media = %job.media, attempt = held.attempt, why, "media processing failed; retried later");
            let _ = writes::claim_job(app, until, held, now_ms() + RETRY_AFTER_MS, held).await?;
            return Ok(false);
        }
    };
    finish(app, until, record, transcoded).await
}

/// Stores the processed files and commits the record with the job's end; the upload is removed after.
async fn finish(app: &App, until: u64, mut record: MediaRecord, t: Transcoded) -> ApiResult<bool> {
    let dir = format!("media/{}/{}", record.id, signed_urls::new_token());
    let upload = record.original.clone();
    let original = MediaFile { key: format!("{dir}/original.mp4"), mime: "video/mp4".into(), bytes: byte_len(&t.mp4) };
    let mut written = Vec::new();
    let poster = t.poster.map(|(small, hash): (Rendition, String)| {
        (MediaFile { key: format!("{dir}/small.{}", small.ext), mime: small.mime.into(), bytes: byte_len(&small.bytes) }, small, hash)
    });
    let mut files: Vec<(MediaFile, Vec<u8>)> = vec![(original.clone(), t.mp4)];
    if let Some((file, small, _)) = &poster {
        files.push((file.clone(), small.bytes.clone()));
    }
    for (file, bytes) in files {
        if let Err(e) = app.media.put(&file.key, bytes, &file.mime).await {
            app.remove_files(&written).await;
            return Err(e.into());
        }
        written.push(file.key.clone());
    }
    let small_size = match &poster {
        Some((_, small, _)) => small.dimensions,
        None => record.meta.get("small").and_then(|s| Some((u32::try_from(s.get("width")?.as_u64()?).ok()?, u32::try_from(s.get("height")?.as_u64()?).ok()?))),
    };
    if let Some((file, _, hash)) = poster {
        record.small = Some(file);
        record.blurhash = Some(hash);
    }
    // Edits made while it was processed (description, focus) are kept.
    if let Some(fresh) = app.media_records(&[record.id]).await?.remove(&record.id) {
        record.description = fresh.description;
        record.focus = fresh.focus;
    }
    record.original = original;
    record.meta = video::meta(&t.probe, small_size);
    record.processing = None;
    match writes::finish_job(app, until, &record).await? {
        Ok(()) => {
            app.remove_files(&[upload.key]).await;
            Ok(true)
        }
        Err(JobConflict::NotHeld) => {
            app.remove_files(&written).await;
            Ok(false)
        }
    }
}

fn byte_len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

/// Marks the attachment failed and ends the job.
async fn fail(app: &App, until: u64, mut record: MediaRecord) -> ApiResult<bool> {
    if let Some(p) = record.processing.as_mut() {
        p.failed = true;
    }
    Ok(writes::finish_job(app, until, &record).await?.is_ok())
}

/// Processes job `media` (due at `due`) in the caller's task, for `POST /api/v1/media`, which
/// answers once the attachment is processed.
pub async fn process_now(app: &App, due: u64, media: Id) -> ApiResult<()> {
    work(app, due, MediaJob { media, attempt: 0 }).await.map(|_| ())
}
