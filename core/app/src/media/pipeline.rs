//! The media pipeline: pure and CPU-bound (callers run it on `spawn_blocking`). The type is
//! sniffed from the bytes, never taken from the client; images are decoded under limits,
//! turned upright and re-encoded — which drops EXIF, GPS and every other metadata block —
//! with a small preview and a blurhash; videos are checked by their container signature and
//! kept as they are.

use std::io::Cursor;

use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngDecoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::{WebPDecoder, WebPEncoder};
use image::imageops::FilterType;
use image::{AnimationDecoder, DynamicImage, Frame, ImageDecoder as _, ImageFormat, ImageReader, Limits};
use serde_json::{Value, json};

use crate::config::MediaConfig;

/// Longest side of the preview, in pixels (Mastodon's `small` is 640×360-ish; 400 is plenty).
pub const PREVIEW_SIDE: u32 = 400;
/// JPEG quality of re-encoded originals.
const JPEG_QUALITY: u8 = 90;
/// JPEG quality of previews.
const PREVIEW_QUALITY: u8 = 80;
/// Longest side of the image a blurhash is computed from (the hash has 4×3 components).
const BLURHASH_SIDE: u32 = 64;

/// What kind of attachment a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A still (or, for GIF, possibly animated) picture.
    Image,
    /// A video.
    Video,
    /// An animated GIF, served as a silent looping MP4.
    Gifv,
}

impl Kind {
    /// Mastodon's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Video => "video",
            Kind::Gifv => "gifv",
        }
    }
}

/// A format recognised from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// MIME type served.
    pub mime: &'static str,
    /// File extension.
    pub ext: &'static str,
    /// Image or video.
    pub kind: Kind,
    image: Option<ImageFormat>,
}

/// The formats accepted: images (JPEG, PNG, GIF, WebP) and videos (MP4, WebM).
pub const SUPPORTED_MIME_TYPES: [&str; 6] = ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/webm"];

/// The format of `bytes`, by signature, or `None` when it is not one we accept.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    let image = |mime, ext, f| Some(Format { mime, ext, kind: Kind::Image, image: Some(f) });
    let video = |mime, ext| Some(Format { mime, ext, kind: Kind::Video, image: None });
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        image("image/jpeg", "jpg", ImageFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        image("image/png", "png", ImageFormat::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        image("image/gif", "gif", ImageFormat::Gif)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        image("image/webp", "webp", ImageFormat::WebP)
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" && !is_image_brand(&bytes[8..12]) {
        video("video/mp4", "mp4")
    } else if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) && contains(&bytes[..bytes.len().min(64)], b"webm") {
        video("video/webm", "webm")
    } else {
        None
    }
}

/// HEIF/AVIF share MP4's container; they are pictures we do not decode, not videos.
fn is_image_brand(brand: &[u8]) -> bool {
    matches!(brand, b"heic" | b"heix" | b"mif1" | b"msf1" | b"avif" | b"avis")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Why a file was refused; every variant is the client's doing (422).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// No bytes at all.
    #[error("Validation failed: File is empty")]
    Empty,
    /// Not a format we accept.
    #[error("Validation failed: File content type is not supported (accepted: JPEG, PNG, GIF, WebP, MP4, WebM)")]
    Unsupported,
    /// Over the size limit of its kind.
    #[error("Validation failed: File is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// More pixels than the limit (decompression-bomb guard).
    #[error("Validation failed: Image has more than {limit} pixels")]
    TooManyPixels { limit: u64 },
    /// The signature matched but the content does not decode.
    #[error("Validation failed: File could not be processed as an image")]
    Corrupt,
    /// A thumbnail that is not an image.
    #[error("Validation failed: Thumbnail must be an image")]
    BadThumbnail,
    /// A profile picture that is not a picture (a video, or nothing we decode).
    #[error("Validation failed: Image must be a JPEG, PNG, GIF or WebP picture")]
    NotAPicture,
    /// An animation with more frames, or more decoded pixels over all its frames, than allowed.
    #[error("Validation failed: Animation has more than {limit} frames or is too large to process")]
    TooManyFrames { limit: usize },
}

/// One stored file of an attachment.
#[derive(Debug, Clone)]
pub struct Rendition {
    /// The bytes to store.
    pub bytes: Vec<u8>,
    /// Its MIME type.
    pub mime: &'static str,
    /// Its extension.
    pub ext: &'static str,
    /// Pixel size, when known (images and previews).
    pub dimensions: Option<(u32, u32)>,
}

/// The outcome of the pipeline: what to store and describe.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Image or video.
    pub kind: Kind,
    /// The original, re-encoded for images, as uploaded for videos and GIFs.
    pub original: Rendition,
    /// The preview (for videos, from the client's thumbnail when given).
    pub small: Option<Rendition>,
    /// BlurHash of the picture.
    pub blurhash: Option<String>,
    /// A video or animated GIF: `original` is the upload, transcoded later (`media::jobs`).
    pub deferred: bool,
}

impl Processed {
    /// Mastodon's `meta` (without `focus`, which the caller adds).
    pub fn meta(&self) -> Value {
        let mut meta = serde_json::Map::new();
        if let Some(d) = self.original.dimensions {
            meta.insert("original".into(), dimensions_meta(d));
        }
        if let Some(d) = self.small.as_ref().and_then(|s| s.dimensions) {
            meta.insert("small".into(), dimensions_meta(d));
        }
        Value::Object(meta)
    }
}

fn dimensions_meta((width, height): (u32, u32)) -> Value {
    json!({ "width": width, "height": height, "size": format!("{width}x{height}"), "aspect": f64::from(width) / f64::from(height.max(1)) })
}

/// Runs the pipeline on an upload (and its optional thumbnail).
pub fn process(bytes: &[u8], thumbnail: Option<&[u8]>, limits: &MediaConfig) -> Result<Processed, Rejected> {
    if bytes.is_empty() {
        return Err(Rejected::Empty);
    }
    let format = sniff(bytes).ok_or(Rejected::Unsupported)?;
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    match format.kind {
        Kind::Image => {
            if size > limits.image_size_limit {
                return Err(Rejected::TooLarge { limit: limits.image_size_limit });
            }
            let picture = decode(bytes, format, limits)?;
            if format.image == Some(ImageFormat::Gif) && animated_gif(bytes) {
                // Becomes a looping MP4; the first frame is its preview until then, and after.
                let original = Rendition { bytes: bytes.to_vec(), mime: format.mime, ext: format.ext, dimensions: Some((picture.width(), picture.height())) };
                let (small, blurhash) = preview(&picture)?;
                return Ok(Processed { kind: Kind::Gifv, original, small: Some(small), blurhash: Some(blurhash), deferred: true });
            }
            let original = if format.image == Some(ImageFormat::Gif) {
                // Stored as uploaded, so animations survive; GIF carries no EXIF or GPS block.
                Rendition { bytes: bytes.to_vec(), mime: format.mime, ext: format.ext, dimensions: Some((picture.width(), picture.height())) }
            } else {
                reencode(&picture, format)?
            };
            let (small, blurhash) = preview(&picture)?;
            Ok(Processed { kind: Kind::Image, original, small: Some(small), blurhash: Some(blurhash), deferred: false })
        }
        Kind::Video => {
            if size > limits.video_size_limit {
                return Err(Rejected::TooLarge { limit: limits.video_size_limit });
            }
            let (small, blurhash) = match thumbnail.filter(|t| !t.is_empty()) {
                None => (None, None),
                Some(t) => {
                    let f = sniff(t).filter(|f| f.kind == Kind::Image).ok_or(Rejected::BadThumbnail)?;
                    if u64::try_from(t.len()).unwrap_or(u64::MAX) > limits.image_size_limit {
                        return Err(Rejected::TooLarge { limit: limits.image_size_limit });
                    }
                    let (small, hash) = preview(&decode(t, f, limits)?)?;
                    (Some(small), Some(hash))
                }
            };
            Ok(Processed {
                kind: Kind::Video,
                original: Rendition { bytes: bytes.to_vec(), mime: format.mime, ext: format.ext, dimensions: None },
                small,
                blurhash,
                deferred: true,
            })
        }
        Kind::Gifv => Err(Rejected::Unsupported),
    }
}

/// Whether a GIF has more than one frame (its header and pixel count are checked already).
fn animated_gif(bytes: &[u8]) -> bool {
    GifDecoder::new(Cursor::new(bytes)).map(|d| d.into_frames().take(2).filter(Result::is_ok).count() > 1).unwrap_or(false)
}

/// A video's poster frame (a PNG ffmpeg wrote) as the preview and blurhash.
pub fn poster(png: &[u8], limits: &MediaConfig) -> Result<(Rendition, String), Rejected> {
    let format = sniff(png).filter(|f| f.kind == Kind::Image).ok_or(Rejected::Corrupt)?;
    preview(&decode(png, format, limits)?)
}

/// The pixels the pipeline will decode for this upload (the picture, or a video's thumbnail),
/// read from the header only: what it must take of the decode budget. 0 when nothing will be
/// decoded, or when the file will be refused before any pixel buffer is allocated (not a
/// supported image, over a size limit, an unreadable header, over the pixel limit).
pub fn pixels(bytes: &[u8], thumbnail: Option<&[u8]>, limits: &MediaConfig) -> u64 {
    let picture = |bytes: &[u8]| {
        let Some(format) = sniff(bytes).filter(|f| f.kind == Kind::Image) else { return 0 };
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limits.image_size_limit {
            return 0;
        }
        match dimensions(bytes, format, limits) {
            Ok((width, height)) => u64::from(width) * u64::from(height),
            Err(_) => 0,
        }
    };
    match sniff(bytes).map(|f| f.kind) {
        Some(Kind::Image | Kind::Gifv) => picture(bytes),
        Some(Kind::Video) => thumbnail.filter(|t| !t.is_empty()).map_or(0, picture),
        None => 0,
    }
}

fn reader<'a>(bytes: &'a [u8], image_format: ImageFormat, limits: &MediaConfig) -> ImageReader<Cursor<&'a [u8]>> {
    let mut r = ImageReader::with_format(Cursor::new(bytes), image_format);
    let mut l = Limits::default();
    l.max_image_width = Some(limits.max_image_side);
    l.max_image_height = Some(limits.max_image_side);
    l.max_alloc = Some(limits.image_matrix_limit.saturating_mul(8).max(64 * 1024 * 1024));
    r.limits(l);
    r
}

/// The header's dimensions, checked against the limits.
fn dimensions(bytes: &[u8], format: Format, limits: &MediaConfig) -> Result<(u32, u32), Rejected> {
    let image_format = format.image.ok_or(Rejected::Unsupported)?;
    let (width, height) = reader(bytes, image_format, limits).into_dimensions().map_err(|e| classify(&e, limits))?;
    if width == 0 || height == 0 {
        return Err(Rejected::Corrupt);
    }
    if u64::from(width) * u64::from(height) > limits.image_matrix_limit {
        return Err(Rejected::TooManyPixels { limit: limits.image_matrix_limit });
    }
    Ok((width, height))
}

/// Decodes under limits: the header's dimensions are checked before any pixel buffer is
/// allocated, and the decoder itself is bounded too. The result is upright (EXIF orientation
/// applied), since the re-encoded file carries no orientation tag.
fn decode(bytes: &[u8], format: Format, limits: &MediaConfig) -> Result<DynamicImage, Rejected> {
    let image_format = format.image.ok_or(Rejected::Unsupported)?;
    dimensions(bytes, format, limits)?;
    let mut decoder = reader(bytes, image_format, limits).into_decoder().map_err(|e| classify(&e, limits))?;
    let orientation = decoder.orientation().ok();
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|e| classify(&e, limits))?;
    if let Some(o) = orientation {
        picture.apply_orientation(o);
    }
    Ok(picture)
}

fn classify(e: &image::ImageError, limits: &MediaConfig) -> Rejected {
    match e {
        image::ImageError::Limits(_) => Rejected::TooManyPixels { limit: limits.image_matrix_limit },
        _ => Rejected::Corrupt,
    }
}

/// Encodes the decoded pixels again in the upload's format: only pixels survive.
fn reencode(picture: &DynamicImage, format: Format) -> Result<Rendition, Rejected> {
    let mut out = Vec::new();
    let result = match format.image {
        Some(ImageFormat::Jpeg) => flatten(picture).write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)),
        Some(ImageFormat::Png) => picture.write_with_encoder(PngEncoder::new(&mut out)),
        Some(ImageFormat::WebP) => {
            let eight_bit = if picture.color().has_alpha() { DynamicImage::ImageRgba8(picture.to_rgba8()) } else { DynamicImage::ImageRgb8(picture.to_rgb8()) };
            eight_bit.write_with_encoder(WebPEncoder::new_lossless(&mut out))
        }
        _ => return Err(Rejected::Unsupported),
    };
    result.map_err(|_| Rejected::Corrupt)?;
    Ok(Rendition { bytes: out, mime: format.mime, ext: format.ext, dimensions: Some((picture.width(), picture.height())) })
}

/// JPEG holds 8-bit grey or RGB only.
fn flatten(picture: &DynamicImage) -> DynamicImage {
    if picture.color().has_color() { DynamicImage::ImageRgb8(picture.to_rgb8()) } else { DynamicImage::ImageLuma8(picture.to_luma8()) }
}

/// The preview (JPEG, or PNG when the picture has transparency) and the blurhash.
fn preview(picture: &DynamicImage) -> Result<(Rendition, String), Rejected> {
    let small = if picture.width().max(picture.height()) > PREVIEW_SIDE { picture.thumbnail(PREVIEW_SIDE, PREVIEW_SIDE) } else { picture.clone() };
    let mut out = Vec::new();
    let (mime, ext) = if small.color().has_alpha() {
        DynamicImage::ImageRgba8(small.to_rgba8()).write_with_encoder(PngEncoder::new(&mut out)).map_err(|_| Rejected::Corrupt)?;
        ("image/png", "png")
    } else {
        flatten(&small).write_with_encoder(JpegEncoder::new_with_quality(&mut out, PREVIEW_QUALITY)).map_err(|_| Rejected::Corrupt)?;
        ("image/jpeg", "jpg")
    };
    let tiny = small.thumbnail(BLURHASH_SIDE, BLURHASH_SIDE).to_rgba8();
    let hash = blurhash::encode(4, 3, tiny.width(), tiny.height(), tiny.as_raw()).map_err(|_| Rejected::Corrupt)?;
    Ok((Rendition { bytes: out, mime, ext, dimensions: Some((small.width(), small.height())) }, hash))
}

/// Which profile picture: Mastodon's geometry for each (cropped to fill, `400x400#`, `1500x500#`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picture {
    Avatar,
    Header,
}

impl Picture {
    /// The stored size (width, height).
    pub fn size(self) -> (u32, u32) {
        match self {
            Picture::Avatar => (400, 400),
            Picture::Header => (1500, 500),
        }
    }

    /// The name used in keys, URLs and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Picture::Avatar => "avatar",
            Picture::Header => "header",
        }
    }
}

/// Most frames an animated profile picture may have.
pub const MAX_ANIMATION_FRAMES: usize = 500;
/// Most pixels decoded over all frames of an animated profile picture, in multiples of
/// `image_matrix_limit`: the work bound of an animation (each frame is a full canvas).
const ANIMATION_WORK_FACTOR: u64 = 4;
/// NeuQuant speed of GIF encoding (1 best and slowest, 30 fastest).
const GIF_SPEED: i32 = 10;

/// A processed profile picture: `original` (animated GIF for an animated upload, else the
/// upload's format re-encoded; a still GIF becomes PNG) and, for animations, `still`: the first
/// frame as PNG (`avatar_static`, `header_static`).
#[derive(Debug, Clone)]
pub struct ProfilePicture {
    pub original: Rendition,
    pub still: Option<Rendition>,
}

/// Runs a profile picture through the pipeline: sniffed, checked against the size and pixel
/// limits from its header, decoded under limits, cropped to fill `which`'s size and re-encoded
/// (no metadata survives). Animated GIF, APNG and WebP keep their animation as a GIF.
pub fn profile_picture(bytes: &[u8], which: Picture, limits: &MediaConfig) -> Result<ProfilePicture, Rejected> {
    if bytes.is_empty() {
        return Err(Rejected::Empty);
    }
    let format = sniff(bytes).filter(|f| f.kind == Kind::Image).ok_or(Rejected::NotAPicture)?;
    if len(bytes) > limits.profile_image_size_limit {
        return Err(Rejected::TooLarge { limit: limits.profile_image_size_limit });
    }
    let (source_width, source_height) = dimensions(bytes, format, limits)?;
    let (width, height) = which.size();
    let fit = |picture: &DynamicImage| picture.resize_to_fill(width, height, FilterType::Triangle);
    let frame_budget = limits.image_matrix_limit.saturating_mul(ANIMATION_WORK_FACTOR) / (u64::from(source_width) * u64::from(source_height)).max(1);
    let frame_limit = MAX_ANIMATION_FRAMES.min(usize::try_from(frame_budget).unwrap_or(usize::MAX));
    if let Some(frames) = animation(bytes, format, limits, frame_limit, &fit)? {
        let first = DynamicImage::ImageRgba8(frames.first().ok_or(Rejected::Corrupt)?.buffer().clone());
        let mut gif = Vec::new();
        {
            let mut encoder = GifEncoder::new_with_speed(&mut gif, GIF_SPEED);
            encoder.set_repeat(Repeat::Infinite).map_err(|_| Rejected::Corrupt)?;
            encoder.encode_frames(frames).map_err(|_| Rejected::Corrupt)?;
        }
        let original = Rendition { bytes: gif, mime: "image/gif", ext: "gif", dimensions: Some((width, height)) };
        let still = encode_png(&first)?;
        return Ok(ProfilePicture { original, still: Some(still) });
    }
    let picture = fit(&decode(bytes, format, limits)?);
    let original = if format.image == Some(ImageFormat::Gif) { encode_png(&picture)? } else { reencode(&picture, format)? };
    Ok(ProfilePicture { original, still: None })
}

fn len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

fn encode_png(picture: &DynamicImage) -> Result<Rendition, Rejected> {
    let mut out = Vec::new();
    picture.write_with_encoder(PngEncoder::new(&mut out)).map_err(|_| Rejected::Corrupt)?;
    Ok(Rendition { bytes: out, mime: "image/png", ext: "png", dimensions: Some((picture.width(), picture.height())) })
}

/// The frames of an animated GIF, APNG or WebP, each passed through `fit` as it is decoded (so
/// only one full canvas is held at a time), or `None` when the picture is not animated (one
/// frame). More than `frame_limit` frames is refused.
fn animation(
    bytes: &[u8],
    format: Format,
    limits: &MediaConfig,
    frame_limit: usize,
    fit: &dyn Fn(&DynamicImage) -> DynamicImage,
) -> Result<Option<Vec<Frame>>, Rejected> {
    let decoder_limits = || {
        let mut l = Limits::default();
        l.max_image_width = Some(limits.max_image_side);
        l.max_image_height = Some(limits.max_image_side);
        l.max_alloc = Some(limits.image_matrix_limit.saturating_mul(8).max(64 * 1024 * 1024));
        l
    };
    let fail = |e: image::ImageError| classify(&e, limits);
    let frames = match format.image {
        Some(ImageFormat::Gif) => {
            let mut d = GifDecoder::new(Cursor::new(bytes)).map_err(fail)?;
            d.set_limits(decoder_limits()).map_err(fail)?;
            d.into_frames()
        }
        Some(ImageFormat::Png) => {
            let d = PngDecoder::with_limits(Cursor::new(bytes), decoder_limits()).map_err(fail)?;
            if !d.is_apng().map_err(fail)? {
                return Ok(None);
            }
            d.apng().map_err(fail)?.into_frames()
        }
        Some(ImageFormat::WebP) => {
            let mut d = WebPDecoder::new(Cursor::new(bytes)).map_err(fail)?;
            if !d.has_animation() {
                return Ok(None);
            }
            d.set_limits(decoder_limits()).map_err(fail)?;
            d.into_frames()
        }
        _ => return Ok(None),
    };
    let mut out = Vec::new();
    for frame in frames {
        if out.len() == frame_limit {
            return Err(Rejected::TooManyFrames { limit: frame_limit });
        }
        let frame = frame.map_err(fail)?;
        let delay = frame.delay();
        let fitted = fit(&DynamicImage::ImageRgba8(frame.into_buffer())).to_rgba8();
        out.push(Frame::from_parts(fitted, 0, 0, delay));
    }
    Ok((out.len() > 1).then_some(out))
}

/// The pixels a profile picture's decode holds (from its header; 0 when it will be refused first).
pub fn profile_pixels(bytes: &[u8], limits: &MediaConfig) -> u64 {
    let Some(format) = sniff(bytes).filter(|f| f.kind == Kind::Image) else { return 0 };
    if len(bytes) > limits.profile_image_size_limit {
        return 0;
    }
    dimensions(bytes, format, limits).map_or(0, |(w, h)| u64::from(w) * u64::from(h))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img).write_with_encoder(PngEncoder::new(&mut out)).unwrap();
        out
    }

    #[test]
    fn sniffs_by_signature_not_by_name() {
        assert_eq!(sniff(&png(2, 2)).unwrap().mime, "image/png");
        assert_eq!(sniff(b"\0\0\0\x18ftypisom\0\0\x02\0").unwrap().mime, "video/mp4");
        assert_eq!(sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm").unwrap().mime, "video/webm");
        assert!(sniff(b"\0\0\0\x18ftypheic\0\0\x02\0").is_none());
        assert!(sniff(b"<svg xmlns=...>").is_none());
        assert!(sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska").is_none());
    }

    #[test]
    fn previews_keep_the_aspect_ratio() {
        let out = process(&png(1000, 500), None, &MediaConfig::default()).unwrap();
        assert_eq!(out.original.dimensions, Some((1000, 500)));
        assert_eq!(out.small.unwrap().dimensions, Some((400, 200)));
        assert_eq!(out.blurhash.unwrap().len(), 28);
    }

    #[test]
    fn pixel_bombs_are_refused_before_decoding() {
        let limits = MediaConfig { image_matrix_limit: 100 * 100, ..MediaConfig::default() };
        assert_eq!(process(&png(101, 100), None, &limits).unwrap_err(), Rejected::TooManyPixels { limit: 10_000 });
    }

    #[test]
    fn the_decode_cost_is_read_from_the_header() {
        let limits = MediaConfig { image_matrix_limit: 100 * 100, ..MediaConfig::default() };
        assert_eq!(pixels(&png(30, 20), None, &limits), 600);
        assert_eq!(pixels(&png(101, 100), None, &limits), 0, "refused before decoding: costs nothing");
        assert_eq!(pixels(b"\0\0\0\x18ftypisom\0\0\x02\0", None, &limits), 0);
        assert_eq!(pixels(b"\0\0\0\x18ftypisom\0\0\x02\0", Some(&png(10, 10)), &limits), 100, "a video's thumbnail");
        assert_eq!(pixels(b"not an image", None, &limits), 0);
    }

    #[test]
    fn truncated_images_are_corrupt() {
        let bytes = png(64, 64);
        assert_eq!(process(&bytes[..bytes.len() / 2], None, &MediaConfig::default()).unwrap_err(), Rejected::Corrupt);
    }
}
