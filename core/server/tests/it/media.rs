//! Media: uploads through the pipeline (metadata stripped, previews, blurhash), files served
//! at unguessable URLs (stable for public statuses, signed for the rest), ownership, attachments
//! on statuses, bad input, presigned completion, the decode budget; videos and GIFs transcoded
//! by durable jobs (ffmpeg).

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::{Reply, TestApp, User, id, ids};

/// A marker that must not survive processing.
const SECRET: &[u8] = b"StarlingCam-SECRET";

fn picture(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 7 % 256) as u8, (y * 5 % 256) as u8, 90])))
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// An EXIF APP1 segment (big-endian TIFF): Make = SECRET, Orientation = 6 (rotate 90° clockwise),
/// and a GPS IFD with latitude 52° 31' 12.34" N.
fn exif_segment() -> Vec<u8> {
    let mut t: Vec<u8> = b"MM\0\x2a\0\0\0\x08".to_vec();
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend(tag.to_be_bytes());
        t.extend(kind.to_be_bytes());
        t.extend(count.to_be_bytes());
        t.extend(value);
    };
    // IFD0 at 8: 3 entries → ends at 8 + 2 + 36 + 4 = 50; Make text at 50; GPS IFD at 70.
    t.extend(3u16.to_be_bytes());
    let make_len = u32::try_from(SECRET.len() + 1).unwrap();
    entry(&mut t, 0x010F, 2, make_len, 50u32.to_be_bytes());
    entry(&mut t, 0x0112, 3, 1, [0, 6, 0, 0]);
    entry(&mut t, 0x8825, 4, 1, 70u32.to_be_bytes());
    t.extend(0u32.to_be_bytes());
    t.extend(SECRET);
    t.push(0);
    t.resize(70, 0);
    // GPS IFD at 70: 2 entries → ends at 100; rationals at 100.
    t.extend(2u16.to_be_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, 100u32.to_be_bytes());
    t.extend(0u32.to_be_bytes());
    for (n, d) in [(52u32, 1u32), (31, 1), (1234, 100)] {
        t.extend(n.to_be_bytes());
        t.extend(d.to_be_bytes());
    }
    let mut segment = vec![0xFF, 0xE1];
    segment.extend(u16::try_from(2 + 6 + t.len()).unwrap().to_be_bytes());
    segment.extend(b"Exif\0\0");
    segment.extend(t);
    segment
}

/// A 64×32 JPEG carrying EXIF with GPS and an orientation tag.
fn jpeg_with_exif() -> Vec<u8> {
    let plain = encode(&picture(64, 32), ImageFormat::Jpeg);
    let mut out = plain[..2].to_vec();
    out.extend(exif_segment());
    out.extend(&plain[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// An 800×600 PNG with a `tEXt` chunk holding the secret, before `IEND`.
fn png_with_text() -> Vec<u8> {
    let plain = encode(&picture(800, 600), ImageFormat::Png);
    let iend = plain.len() - 12;
    let mut body = b"tEXt".to_vec();
    body.extend(b"Comment\0GPS 52.52N ");
    body.extend(SECRET);
    let mut out = plain[..iend].to_vec();
    out.extend(u32::try_from(body.len() - 4).unwrap().to_be_bytes());
    out.extend(&body);
    out.extend(crc32(&body).to_be_bytes());
    out.extend(&plain[iend..]);
    out
}

/// A minimal MP4 header followed by payload bytes.
fn mp4() -> Vec<u8> {
    let mut v = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
    v.extend((0..5000u32).map(|i| (i % 253) as u8));
    v
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn send(t: &TestApp, path: &str, token: &str, form: Form) -> Reply {
    let res = t.http.post(format!("{}{path}", t.base)).bearer_auth(token).multipart(form).send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    Reply { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

/// Uploads `bytes` as `file` (claiming a name and type the server must not trust).
async fn upload(t: &TestApp, user: &User, bytes: Vec<u8>, name: &str, claimed_type: &str) -> Reply {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()).mime_str(claimed_type).unwrap());
    send(t, "/api/v2/media", &user.token, form).await
}

pub(crate) async fn uploaded_png(t: &TestApp, user: &User) -> String {
    id(&upload(t, user, encode(&picture(20, 10), ImageFormat::Png), "a.png", "image/png").await.expect(200))
}

async fn fetch(t: &TestApp, url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let res = t.http.get(url).send().await.unwrap();
    (res.status().as_u16(), res.headers().clone(), res.bytes().await.unwrap().to_vec())
}

/// Every file under the media directory.
pub(crate) fn stored_files(t: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() { walk(&path, out) } else { out.push(path) }
        }
    }
    let mut out = Vec::new();
    walk(&t.settings.server.data_dir.join("media"), &mut out);
    out
}

#[tokio::test]
async fn jpeg_upload_strips_exif_and_gps_and_turns_the_picture_upright() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let original = jpeg_with_exif();
    assert!(contains(&original, SECRET) && contains(&original, b"Exif"), "the fixture carries the metadata");
    let form = Form::new()
        .part("file", Part::bytes(original).file_name("photo.jpg").mime_str("image/jpeg").unwrap())
        .text("description", "A test pattern")
        .text("focus", "0.5,-0.25");
    let media = send(&t, "/api/v2/media", &alice.token, form).await.expect(200);
    assert_eq!(media["type"], "image");
    assert_eq!(media["description"], "A test pattern");
    // Orientation 6 turns the 64×32 sensor image into a 32×64 picture.
    assert_eq!(media["meta"]["original"], json!({"width": 32, "height": 64, "size": "32x64", "aspect": 0.5}));
    assert_eq!(media["meta"]["small"]["width"], 32);
    assert_eq!(media["meta"]["focus"], json!({"x": 0.5, "y": -0.25}));
    assert_eq!(media["blurhash"].as_str().unwrap().len(), 28, "a 4×3 blurhash");
    crate::assert_required(&media, "MediaAttachment", &["id", "type", "url", "preview_url", "meta", "blurhash", "description"]);

    // Not attached to a status yet: only its uploader sees it, on a signed URL cached privately.
    let url = media["url"].as_str().unwrap();
    let path = url.split('?').next().unwrap();
    assert!(url.starts_with(&t.base) && path.ends_with("/original.jpg"), "{url}");
    let (status, headers, bytes) = fetch(&t, url).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert!(headers["cache-control"].to_str().unwrap().starts_with("private, max-age="), "{:?}", headers["cache-control"]);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(!contains(&bytes, SECRET), "EXIF text is gone");
    assert!(!contains(&bytes, b"Exif"), "the EXIF segment is gone");
    let served = image::load_from_memory(&bytes).unwrap();
    assert_eq!((served.width(), served.height()), (32, 64));

    let (status, headers, preview) = fetch(&t, media["preview_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert!(!contains(&preview, b"Exif"));

    let shown = t.get(&format!("/api/v1/media/{}", id(&media)), Some(&alice.token)).await.expect(200);
    assert_eq!(shown, media);
}

#[tokio::test]
async fn png_upload_drops_text_chunks_and_gets_a_400px_preview() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let original = png_with_text();
    assert!(image::load_from_memory(&original).is_ok(), "the fixture is a valid PNG");
    let media = send(&t, "/api/v1/media", &alice.token, Form::new().part("file", Part::bytes(original).file_name("x.bin"))).await.expect(200);
    assert_eq!(media["meta"]["original"]["width"], 800);
    assert_eq!(media["meta"]["small"], json!({"width": 400, "height": 300, "size": "400x300", "aspect": 400.0 / 300.0}));
    let (_, headers, bytes) = fetch(&t, media["url"].as_str().unwrap()).await;
    assert_eq!(headers["content-type"], "image/png");
    assert!(!contains(&bytes, SECRET) && !contains(&bytes, b"tEXt"), "text chunks are gone");
    let (_, _, preview) = fetch(&t, media["preview_url"].as_str().unwrap()).await;
    let preview = image::load_from_memory(&preview).unwrap();
    assert_eq!((preview.width(), preview.height()), (400, 300));
}

#[tokio::test]
async fn bad_uploads_are_refused_with_422_and_leave_nothing_behind() {
    let t = TestApp::spawn_with(|s| s.media = Some(core_app::config::MediaConfig { image_size_limit: 50_000, video_size_limit: 60_000, ..Default::default() }))
        .await;
    let alice = t.register("alice").await;
    let big_png =
        encode(&DynamicImage::ImageRgb8(RgbImage::from_fn(300, 300, |x, y| image::Rgb([(x * y % 251) as u8, (x ^ y) as u8, (x + y) as u8]))), ImageFormat::Png);
    assert!(big_png.len() > 50_000);
    let mut corrupt = encode(&picture(64, 64), ImageFormat::Jpeg);
    corrupt.truncate(40);
    let mut big_video = mp4();
    big_video.resize(70_000, 1);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("text", b"hello, this is not an image".to_vec()),
        ("svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec()),
        ("corrupt jpeg", corrupt),
        ("oversize image", big_png),
        ("oversize video", big_video),
        ("a png signature and nothing else", b"\x89PNG\r\n\x1a\n".to_vec()),
        ("a body past the upload route's limit", vec![0u8; 3 * 1024 * 1024]),
    ];
    for (what, bytes) in cases {
        let reply = upload(&t, &alice, bytes, "x.jpg", "image/jpeg").await;
        assert_eq!(reply.status.as_u16(), 422, "{what}: {}", reply.body);
        assert!(reply.error().starts_with("Validation failed"), "{what}: {}", reply.body);
    }
    let no_file = send(&t, "/api/v2/media", &alice.token, Form::new().text("description", "nothing")).await;
    assert_eq!(no_file.status.as_u16(), 422, "{}", no_file.body);
    let not_multipart = t.post("/api/v2/media", Some(&alice.token), json!({"file": "x"})).await;
    assert_eq!(not_multipart.status.as_u16(), 422);
    let bad_focus = Form::new().part("file", Part::bytes(encode(&picture(8, 8), ImageFormat::Png)).file_name("a.png")).text("focus", "2,0");
    assert_eq!(send(&t, "/api/v2/media", &alice.token, bad_focus).await.status.as_u16(), 422);
    let long = Form::new().part("file", Part::bytes(encode(&picture(8, 8), ImageFormat::Png)).file_name("a.png")).text("description", "x".repeat(1501));
    assert_eq!(send(&t, "/api/v2/media", &alice.token, long).await.status.as_u16(), 422);
    assert_eq!(stored_files(&t), Vec::<std::path::PathBuf>::new(), "no file was stored");
    // The body limit is raised for uploads only.
    let big_status = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "x".repeat(2 * 1024 * 1024)})).await;
    assert_eq!(big_status.status.as_u16(), 422);
}

#[tokio::test]
async fn decompression_bombs_are_refused_from_the_header() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    // 10,000 × 10,000 of one colour compresses to a small file but is 100 megapixels.
    let bomb = encode(&DynamicImage::ImageLuma8(image::GrayImage::new(10_000, 10_000)), ImageFormat::Png);
    assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
    let reply = upload(&t, &alice, bomb, "bomb.png", "image/png").await;
    assert_eq!(reply.status.as_u16(), 422, "{}", reply.body);
    assert!(reply.error().contains("pixels"), "{}", reply.body);
}

#[tokio::test]
async fn media_belongs_to_its_uploader() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    let media = uploaded_png(&t, &alice).await;
    let path = format!("/api/v1/media/{media}");
    assert_eq!(t.get(&path, Some(&bob.token)).await.status.as_u16(), 404);
    assert_eq!(t.put(&path, Some(&bob.token), json!({"description": "mine now"})).await.status.as_u16(), 404);
    assert_eq!(t.delete(&path, Some(&bob.token)).await.status.as_u16(), 404);
    let stolen = t.post("/api/v1/statuses", Some(&bob.token), json!({"status": "look", "media_ids": [media]})).await;
    assert_eq!(stolen.status.as_u16(), 422, "{}", stolen.body);
    assert_eq!(t.get(&path, None).await.status.as_u16(), 401);
    let read_only = t.token_with_scopes(&alice, "read").await;
    assert_eq!(t.get(&path, Some(&read_only)).await.status.as_u16(), 403);

    let updated = t.put(&path, Some(&alice.token), json!({"description": "Alt text", "focus": "-1,1"})).await.expect(200);
    assert_eq!(updated["description"], "Alt text");
    assert_eq!(updated["meta"]["focus"], json!({"x": -1.0, "y": 1.0}));
    assert_eq!(t.get(&path, Some(&alice.token)).await.expect(200)["description"], "Alt text");
    assert_eq!(t.put(&path, Some(&alice.token), json!({"focus": "nonsense"})).await.status.as_u16(), 422);
}

#[tokio::test]
async fn a_status_carries_up_to_four_attachments() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    let mut media = Vec::new();
    for _ in 0..5 {
        media.push(uploaded_png(&t, &alice).await);
    }
    let too_many = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "five", "media_ids": media})).await;
    assert_eq!(too_many.status.as_u16(), 422, "{}", too_many.body);
    let unknown = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "x", "media_ids": ["12345"]})).await;
    assert_eq!(unknown.status.as_u16(), 422);

    // Media only, no text, as a form with media_ids[] (what Mastodon.py sends).
    let pairs: Vec<(&str, &str)> = media[..4].iter().map(|m| ("media_ids[]", m.as_str())).collect();
    let status = t.post_form("/api/v1/statuses", Some(&alice.token), &pairs).await.expect(200);
    assert_eq!(ids(&status["media_attachments"]), media[..4].to_vec(), "attachments keep their order");
    assert_eq!(status["content"], "");
    let attachment = &status["media_attachments"][0];
    let (code, _, _) = fetch(&t, attachment["url"].as_str().unwrap()).await;
    assert_eq!(code, 200);

    // Attached media is no longer the uploader's to fetch or reuse on its own.
    assert_eq!(t.get(&format!("/api/v1/media/{}", media[0]), Some(&alice.token)).await.status.as_u16(), 404);
    let reuse = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "again", "media_ids": [media[0]]})).await;
    assert_eq!(reuse.status.as_u16(), 422, "{}", reuse.body);

    // Readers see the attachments, also through timelines and boosts.
    t.follow(&bob, &alice).await;
    let text_only = t.post_status(&alice, json!({"status": "just words"})).await;
    let seen = t.get(&format!("/api/v1/statuses/{}", id(&status)), Some(&bob.token)).await.expect(200);
    assert_eq!(seen["media_attachments"], status["media_attachments"]);
    let boost = t.post(&format!("/api/v1/statuses/{}/reblog", id(&status)), Some(&bob.token), json!({})).await.expect(200);
    assert_eq!(boost["reblog"]["media_attachments"].as_array().unwrap().len(), 4);
    let only_media = t.get(&format!("/api/v1/accounts/{}/statuses?only_media=true", alice.id), Some(&bob.token)).await.expect(200);
    assert_eq!(ids(&only_media), vec![id(&status)]);
    let all = t.get(&format!("/api/v1/accounts/{}/statuses", alice.id), Some(&bob.token)).await.expect(200);
    assert_eq!(ids(&all), vec![id(&text_only), id(&status)]);
    let public = t.get("/api/v1/timelines/public?only_media=true", None).await.expect(200);
    assert_eq!(ids(&public), vec![id(&status)]);

    // Editing swaps attachments; the history keeps what each revision had.
    let edited = t
        .put(&format!("/api/v1/statuses/{}", id(&status)), Some(&alice.token), json!({"status": "now with words", "media_ids": [media[4], media[1]]}))
        .await
        .expect(200);
    assert_eq!(ids(&edited["media_attachments"]), vec![media[4].clone(), media[1].clone()]);
    let history = t.get(&format!("/api/v1/statuses/{}/history", id(&status)), None).await.expect(200);
    assert_eq!(history.as_array().unwrap().first().unwrap()["media_attachments"].as_array().unwrap().len(), 4);
    assert_eq!(history.as_array().unwrap().last().unwrap()["media_attachments"].as_array().unwrap().len(), 2);
    // The dropped ones are free again; an edit that names no media keeps them.
    t.post_status(&alice, json!({"status": "redraft", "media_ids": [media[0]]})).await;
    let kept = t.put(&format!("/api/v1/statuses/{}", id(&status)), Some(&alice.token), json!({"status": "words only changed"})).await.expect(200);
    assert_eq!(kept["media_attachments"].as_array().unwrap().len(), 2);
    let emptied = t.put(&format!("/api/v1/statuses/{}", id(&status)), Some(&alice.token), json!({"status": "no media", "media_ids": []})).await.expect(200);
    assert!(emptied["media_attachments"].as_array().unwrap().is_empty());
    let only_media = t.get(&format!("/api/v1/accounts/{}/statuses?only_media=true", alice.id), Some(&bob.token)).await.expect(200);
    assert!(!ids(&only_media).contains(&id(&status)));

    // Deleting a status frees its media for a redraft.
    let with_media = t.post_status(&alice, json!({"status": "bye", "media_ids": [media[4]]})).await;
    t.delete(&format!("/api/v1/statuses/{}", id(&with_media)), Some(&alice.token)).await.expect(200);
    t.post_status(&alice, json!({"status": "redrafted", "media_ids": [media[4]]})).await;
}

#[tokio::test]
async fn deleting_an_unattached_upload_removes_its_files() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let media = upload(&t, &alice, encode(&picture(20, 10), ImageFormat::Png), "a.png", "image/png").await.expect(200);
    assert_eq!(stored_files(&t).len(), 2, "original and preview");
    t.delete(&format!("/api/v1/media/{}", id(&media)), Some(&alice.token)).await.expect(200);
    assert!(stored_files(&t).is_empty());
    let (status, _, _) = fetch(&t, media["url"].as_str().unwrap()).await;
    assert_eq!(status, 404);
    let attach = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "x", "media_ids": [id(&media)]})).await;
    assert_eq!(attach.status.as_u16(), 422);
}

#[tokio::test]
async fn instance_advertises_the_configured_media_limits() {
    let t = TestApp::spawn_with(|s| s.media = Some(core_app::config::MediaConfig { image_size_limit: 1234, ..Default::default() })).await;
    let v2 = t.get("/api/v2/instance", None).await.expect(200);
    let limits = &v2["configuration"]["media_attachments"];
    assert_eq!(limits["image_size_limit"], 1234);
    assert_eq!(limits["video_size_limit"], 99 * 1024 * 1024);
    assert!(limits["supported_mime_types"].as_array().unwrap().contains(&json!("video/webm")));
    let v1 = t.get("/api/v1/instance", None).await.expect(200);
    assert_eq!(v1["configuration"]["media_attachments"]["image_size_limit"], 1234);
}

#[tokio::test]
async fn a_presigned_upload_is_completed_through_the_same_pipeline() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    // What the edge issues: an id from its own node and the key `uploads/{account}/{id}.{ext}`;
    // the client's PUT lands the object there (here: the filesystem media store's directory).
    let upload_id = shared::id::IdGenerator::new(63).next(1_900_000_000_000).to_string();
    let object = t.settings.server.data_dir.join("media").join(format!("uploads/{}/{upload_id}.jpg", alice.id));
    std::fs::create_dir_all(object.parent().unwrap()).unwrap();
    std::fs::write(&object, jpeg_with_exif()).unwrap();
    let path = format!("/api/starling/v1/media/{upload_id}/complete");
    assert_eq!(t.post(&path, Some(&bob.token), json!({})).await.status.as_u16(), 404, "only the uploader's key is looked at");

    let media = t.post(&path, Some(&alice.token), json!({"description": "direct"})).await.expect(200);
    assert_eq!(id(&media), upload_id);
    assert_eq!(media["description"], "direct");
    assert_eq!(media["meta"]["original"]["height"], 64);
    assert!(!object.exists(), "the upload object is removed once processed");
    let (_, _, bytes) = fetch(&t, media["url"].as_str().unwrap()).await;
    assert!(!contains(&bytes, SECRET));
    assert_eq!(t.post(&path, Some(&alice.token), json!({})).await.expect(200), media, "completing twice is harmless");
    assert_eq!(t.post(&path, Some(&bob.token), json!({})).await.status.as_u16(), 404);

    // A bad object is refused and removed, with no record left.
    let bad_id = shared::id::IdGenerator::new(63).next(1_900_000_000_001).to_string();
    let bad = t.settings.server.data_dir.join("media").join(format!("uploads/{}/{bad_id}.png", alice.id));
    std::fs::write(&bad, b"not a png at all").unwrap();
    let refused = t.post(&format!("/api/starling/v1/media/{bad_id}/complete"), Some(&alice.token), json!({})).await;
    assert_eq!(refused.status.as_u16(), 422);
    assert!(!bad.exists());
    assert_eq!(t.get(&format!("/api/v1/media/{bad_id}"), Some(&alice.token)).await.status.as_u16(), 404);
}

#[tokio::test]
async fn unknown_files_are_not_found() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let media = uploaded_png(&t, &alice).await;
    for path in [
        format!("/system/media/{media}/original.jpg"),
        format!("/system/media/{media}/secret.png"),
        "/system/media/1/original.png".to_owned(),
        format!("/system/media/{media}/..%2F..%2Fstarling.redb"),
        format!("/system/media/{media}/..%2F..%2F..%2F/starling.redb"),
        format!("/system/media/{media}/00112233445566778899aabbccddeeff/original.png"),
    ] {
        assert_eq!(t.get(&path, None).await.status.as_u16(), 404, "{path}");
    }
}

/// What the S3 upload intake calls for each object-created notification (core_s3's own tests
/// drive the intake against a recording completion): an upload object becomes the uploader's
/// attachment once; a redelivery is a no-op; nothing to complete and refusals are told apart.
#[tokio::test]
async fn the_upload_completion_port_completes_an_upload_once() {
    use core_ports::ports::{UploadCompletion, UploadError, UploadOutcome};
    use shared::id::Id;

    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let owner = Id::from_u64(alice.id.parse().unwrap());
    let completion = core_server::app_ports::AppUploads(t.app.clone());
    let id = shared::id::IdGenerator::new(63).next(1_900_000_000_000);
    let object = t.settings.server.data_dir.join("media").join(core_ports::keys::upload_key(owner, id, "jpg"));
    std::fs::create_dir_all(object.parent().unwrap()).unwrap();
    std::fs::write(&object, jpeg_with_exif()).unwrap();

    assert_eq!(
        completion.complete_upload(Id::from_u64(owner.as_u64() + 1), id).await.unwrap(),
        UploadOutcome::NothingToComplete,
        "only the uploader's key is looked at"
    );
    assert_eq!(completion.complete_upload(owner, id).await.unwrap(), UploadOutcome::Completed);
    assert!(!object.exists(), "the upload object is removed once processed");
    let records = t.app.media_records(&[id]).await.unwrap();
    let record = &records[&id];
    assert_eq!(record.account_id, owner);
    assert_eq!(completion.complete_upload(owner, id).await.unwrap(), UploadOutcome::Completed, "a redelivered notification completes nothing new");
    assert_eq!(t.app.media_records(&[id]).await.unwrap()[&id].created_at, record.created_at, "the attachment is not made twice");
    assert_eq!(completion.complete_upload(owner, Id::from_u64(id.as_u64() + 1)).await.unwrap(), UploadOutcome::NothingToComplete, "no upload object");

    let bad = shared::id::IdGenerator::new(63).next(1_900_000_000_001);
    let path = t.settings.server.data_dir.join("media").join(core_ports::keys::upload_key(owner, bad, "png"));
    std::fs::write(&path, b"not a png at all").unwrap();
    assert!(matches!(completion.complete_upload(owner, bad).await, Err(UploadError::Refused(_))), "a bad object is refused for good");
    assert!(!path.exists(), "and removed");
}

#[tokio::test]
async fn a_description_with_a_nul_character_is_refused() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let png = encode(&picture(20, 10), ImageFormat::Png);
    let form = Form::new().part("file", Part::bytes(png).file_name("a.png").mime_str("image/png").unwrap()).text("description", "a\0b");
    let reply = send(&t, "/api/v2/media", &alice.token, form).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body["error"].is_string());
    let media = uploaded_png(&t, &alice).await;
    let reply = t.put(&format!("/api/v1/media/{media}"), Some(&alice.token), json!({"description": "x\u{0}y"})).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
}

/// The random part of a file URL: the path segment between the id and the file name.
fn url_token(url: &str) -> String {
    let path = url.split('?').next().unwrap();
    let segments: Vec<&str> = path.rsplit('/').collect();
    segments[1].to_owned()
}

/// `url` with its query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let (path, query) = url.split_once('?').unwrap();
    let query: Vec<String> = query.split('&').map(|kv| if kv.starts_with(&format!("{name}=")) { format!("{name}={value}") } else { kv.to_owned() }).collect();
    format!("{path}?{}", query.join("&"))
}

#[tokio::test]
async fn file_urls_carry_128_random_bits() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let mut tokens = std::collections::HashSet::new();
    for _ in 0..4 {
        let media = upload(&t, &alice, encode(&picture(20, 10), ImageFormat::Png), "a.png", "image/png").await.expect(200);
        let (url, preview) = (media["url"].as_str().unwrap(), media["preview_url"].as_str().unwrap());
        let token = url_token(url);
        assert_eq!(token.len(), 32, "16 random bytes as hex: {url}");
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{url}");
        assert_eq!(url_token(preview), token, "one token per attachment");
        assert!(tokens.insert(token), "tokens do not repeat");
        // The id alone (what the old time-based scan guessed) finds nothing.
        let media_id = id(&media);
        assert_eq!(t.get(&format!("/system/media/{media_id}/original.png"), None).await.status.as_u16(), 404);
    }
    // Distinct bits across tokens, not a counter: every hex position varies over four tokens.
    let varying = (0..32).filter(|&i| tokens.iter().map(|t| t.as_bytes()[i]).collect::<std::collections::HashSet<_>>().len() > 1).count();
    assert!(varying >= 24, "{tokens:?}");
}

#[tokio::test]
async fn media_of_direct_and_private_statuses_is_served_only_to_who_may_see_them() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    t.follow(&dave, &alice).await;
    let direct_media = uploaded_png(&t, &alice).await;
    let direct = t.post_status(&alice, json!({"status": "@bob for your eyes only", "visibility": "direct", "media_ids": [direct_media]})).await;
    let private_media = uploaded_png(&t, &alice).await;
    let private = t.post_status(&alice, json!({"status": "followers only", "visibility": "private", "media_ids": [private_media]})).await;

    // The mentioned account's rendering works; it is signed and expires.
    let seen = t.get(&format!("/api/v1/statuses/{}", id(&direct)), Some(&bob.token)).await.expect(200);
    let url = seen["media_attachments"][0]["url"].as_str().unwrap().to_owned();
    let preview = seen["media_attachments"][0]["preview_url"].as_str().unwrap().to_owned();
    assert!(url.contains("?expires=") && url.contains("&sig="), "{url}");
    let (status, headers, bytes) = fetch(&t, &url).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/png");
    assert!(headers["cache-control"].to_str().unwrap().starts_with("private, max-age="), "not for shared caches");
    assert!(image::load_from_memory(&bytes).is_ok());
    assert_eq!(fetch(&t, &preview).await.0, 200);
    let expires: u64 = url.split("expires=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(expires >= now + 3600 - 5 && expires <= now + 3600 + 600 + 5, "an hour (rounded up to 10 minutes): {expires} vs {now}");

    // Anyone else: 404, as if there were no file — without a signature, with a forged one,
    // with the expiry moved, or on another file of the same attachment.
    let path = url.split('?').next().unwrap();
    assert_eq!(fetch(&t, path).await.0, 404, "anonymous, with the token");
    let sig = url.split("sig=").nth(1).unwrap();
    let forged = format!("{}{}", if sig.starts_with('A') { "B" } else { "A" }, &sig[1..]);
    assert_eq!(fetch(&t, &with_param(&url, "sig", &forged)).await.0, 404, "forged signature");
    assert_eq!(fetch(&t, &with_param(&url, "expires", &(expires + 600).to_string())).await.0, 404, "expiry moved");
    assert_eq!(fetch(&t, &with_param(&url, "sig", "")).await.0, 404);
    let preview_with_url_sig = format!("{}?{}", preview.split('?').next().unwrap(), url.split_once('?').unwrap().1);
    assert_eq!(fetch(&t, &preview_with_url_sig).await.0, 404, "a signature covers one file");
    assert_eq!(t.get(&format!("/api/v1/statuses/{}", id(&direct)), Some(&carol.token)).await.status.as_u16(), 404);
    assert_eq!(t.get(&format!("/api/v1/statuses/{}", id(&direct)), None).await.status.as_u16(), 404);

    // Followers-only: a follower's rendering works, the path alone does not.
    let seen = t.get(&format!("/api/v1/statuses/{}", id(&private)), Some(&dave.token)).await.expect(200);
    let url = seen["media_attachments"][0]["url"].as_str().unwrap();
    assert_eq!(fetch(&t, url).await.0, 200);
    assert_eq!(fetch(&t, url.split('?').next().unwrap()).await.0, 404);
    // In the follower's home too.
    let home = t.get("/api/v1/timelines/home", Some(&dave.token)).await.expect(200);
    let in_home = home.as_array().unwrap().iter().find(|s| s["id"] == private["id"]).unwrap();
    assert_eq!(fetch(&t, in_home["media_attachments"][0]["url"].as_str().unwrap()).await.0, 200);
}

#[tokio::test]
async fn public_media_keeps_stable_urls_until_no_public_status_holds_it() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let media = uploaded_png(&t, &alice).await;
    let status = t.post_status(&alice, json!({"status": "look", "media_ids": [media]})).await;
    let url = status["media_attachments"][0]["url"].as_str().unwrap().to_owned();
    assert!(!url.contains('?'), "stable: {url}");
    assert_eq!(url_token(&url).len(), 32);
    let (code, headers, _) = fetch(&t, &url).await;
    assert_eq!(code, 200, "anyone may fetch it");
    assert!(headers["cache-control"].to_str().unwrap().contains("public") && headers["cache-control"].to_str().unwrap().contains("immutable"));
    // An anonymous reader of the status gets the same URL.
    let anonymous = t.get(&format!("/api/v1/statuses/{}", id(&status)), None).await.expect(200);
    assert_eq!(anonymous["media_attachments"][0]["url"], url.as_str());
    // Unlisted statuses are as public.
    let unlisted_media = uploaded_png(&t, &alice).await;
    let unlisted = t.post_status(&alice, json!({"status": "quiet", "visibility": "unlisted", "media_ids": [unlisted_media]})).await;
    assert_eq!(fetch(&t, unlisted["media_attachments"][0]["url"].as_str().unwrap()).await.0, 200);

    // An edit drops it: held by no status, it is the uploader's again, not anyone's.
    t.put(&format!("/api/v1/statuses/{}", id(&status)), Some(&alice.token), json!({"status": "gone", "media_ids": []})).await.expect(200);
    assert_eq!(fetch(&t, &url).await.0, 404);
    let own = t.get(&format!("/api/v1/media/{media}"), Some(&alice.token)).await.expect(200);
    assert_eq!(fetch(&t, own["url"].as_str().unwrap()).await.0, 200, "the uploader's signed URL");
    // Deleting the status does the same.
    t.delete(&format!("/api/v1/statuses/{}", id(&unlisted)), Some(&alice.token)).await.expect(200);
    assert_eq!(fetch(&t, unlisted["media_attachments"][0]["url"].as_str().unwrap()).await.0, 404);
}

#[tokio::test]
async fn expired_signatures_are_not_found() {
    let t = TestApp::spawn_with(|s| s.media = Some(core_app::config::MediaConfig { signed_url_ttl_secs: 2, ..Default::default() })).await;
    let alice = t.register("alice").await;
    let media = upload(&t, &alice, encode(&picture(20, 10), ImageFormat::Png), "a.png", "image/png").await.expect(200);
    let url = media["url"].as_str().unwrap();
    assert_eq!(fetch(&t, url).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(3_200)).await;
    assert_eq!(fetch(&t, url).await.0, 404, "expired");
    let fresh = t.get(&format!("/api/v1/media/{}", id(&media)), Some(&alice.token)).await.expect(200);
    assert_eq!(fetch(&t, fresh["url"].as_str().unwrap()).await.0, 200, "a new rendering signs again");
}

#[tokio::test]
async fn concurrent_decodes_stay_within_the_pixel_budget() {
    // A budget of 1.2 million pixels: two 700×700 pictures (490,000 each) at most at once.
    let budget = 1_200_000;
    let t =
        TestApp::spawn_with(|s| s.media = Some(core_app::config::MediaConfig { decode_pixel_budget: budget, decode_wait_ms: 60_000, ..Default::default() }))
            .await;
    let alice = t.register("alice").await;
    let big = encode(&picture(700, 700), ImageFormat::Png);
    let uploads = (0..8).map(|_| upload(&t, &alice, big.clone(), "big.png", "image/png"));
    for reply in futures_util::future::join_all(uploads).await {
        reply.expect(200);
    }
    let stats = t.app.decode_budget().stats();
    assert_eq!(stats.budget, budget);
    assert!(stats.high_water <= budget, "{stats:?}");
    assert!(stats.high_water >= 490_000, "{stats:?}");
    assert_eq!((stats.in_flight, stats.refused), (0, 0), "{stats:?}");

    // Uploads that cannot get their share within the wait are refused with 503, Mastodon's envelope.
    let t =
        TestApp::spawn_with(|s| s.media = Some(core_app::config::MediaConfig { decode_pixel_budget: budget, decode_wait_ms: 200, ..Default::default() })).await;
    let alice = t.register("alice").await;
    let held = t.app.decode_budget().acquire(800_000, std::time::Duration::ZERO).await.unwrap();
    let uploads = (0..4).map(|_| upload(&t, &alice, big.clone(), "big.png", "image/png"));
    for reply in futures_util::future::join_all(uploads).await {
        assert_eq!(reply.status.as_u16(), 503, "{}", reply.body);
        assert!(reply.body["error"].is_string(), "{}", reply.body);
        assert!(reply.headers.contains_key("retry-after"));
    }
    // Small pictures still fit beside the held share.
    upload(&t, &alice, encode(&picture(20, 10), ImageFormat::Png), "a.png", "image/png").await.expect(200);
    assert_eq!(t.app.decode_budget().stats().refused, 4);
    assert!(t.app.decode_budget().stats().high_water <= budget);
    drop(held);
    upload(&t, &alice, big, "big.png", "image/png").await.expect(200);
    let metrics = t.get("/metrics", None).await.expect(200);
    let text = metrics.as_str().unwrap();
    assert!(text.contains("starling_media_decode_refused_total 4\n") && text.contains("starling_media_decode_pixels_in_flight 0\n"), "{text}");
}

/// Attachments stored before file keys carried a token (`media/{id}/original.png`) still load
/// and are served under the same rules: public ones to anyone, the others only signed.
#[tokio::test]
async fn attachments_stored_before_tokens_are_still_served_by_the_same_rules() {
    use core_app::model::MediaRecord;
    use core_app::ports::{Condition, Store as _, Write};
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let public_media = uploaded_png(&t, &alice).await;
    let public = t.post_status(&alice, json!({"status": "old and public", "media_ids": [public_media]})).await;
    let direct_media = uploaded_png(&t, &alice).await;
    let direct = t.post_status(&alice, json!({"status": "@bob old and direct", "visibility": "direct", "media_ids": [direct_media]})).await;
    let data = t.settings.server.data_dir.clone();
    let dir = t.stop().await;

    // Rewrite both records and their files to the layout before tokens.
    {
        let store = crate::open_when_released(&data.join("starling.redb")).await;
        for media in [&public_media, &direct_media] {
            let key = core_app::keys::media(media.parse().unwrap());
            let item = store.get(&key).await.unwrap().unwrap();
            let mut record: MediaRecord = core_app::model::decode(&item).unwrap();
            for file in std::iter::once(&mut record.original).chain(record.small.as_mut()) {
                let name = file.key.rsplit('/').next().unwrap().to_owned();
                let old = format!("media/{media}/{name}");
                std::fs::rename(data.join("media").join(&file.key), data.join("media").join(&old)).unwrap();
                file.key = old;
            }
            let write: Write = core_app::model::put(key, &record, Condition::Exists).unwrap();
            store.transact(vec![write], vec![]).await.unwrap();
        }
    }

    let t = TestApp::spawn_in(dir, |_| {}).await;
    let seen = t.get(&format!("/api/v1/statuses/{}", id(&public)), None).await.expect(200);
    let url = seen["media_attachments"][0]["url"].as_str().unwrap();
    assert_eq!(url, format!("{}/system/media/{public_media}/original.png", t.base));
    assert_eq!(fetch(&t, url).await.0, 200, "public: anyone");
    let seen = t.get(&format!("/api/v1/statuses/{}", id(&direct)), Some(&bob.token)).await.expect(200);
    let url = seen["media_attachments"][0]["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/system/media/{direct_media}/original.png?expires=", t.base)), "{url}");
    assert_eq!(fetch(&t, url).await.0, 200, "the mentioned account's signed URL");
    assert_eq!(fetch(&t, url.split('?').next().unwrap()).await.0, 404, "direct: not without the signature");
}

#[tokio::test]
async fn a_suspended_accounts_files_are_not_served() {
    let t = TestApp::spawn().await;
    let [adam, bob] = t.register_all(["adam", "bob"]).await;
    let public = t.post_status(&bob, json!({"status": "public", "media_ids": [uploaded_png(&t, &bob).await]})).await;
    let direct = t.post_status(&bob, json!({"status": "@adam direct", "visibility": "direct", "media_ids": [uploaded_png(&t, &bob).await]})).await;
    let urls: Vec<String> = [&public, &direct].iter().map(|s| s["media_attachments"][0]["url"].as_str().unwrap().to_owned()).collect();
    for url in &urls {
        assert_eq!(fetch(&t, url).await.0, 200);
    }
    let account = &bob.id;
    core_app::admin::service::set_role(&t.app, adam.id.parse().unwrap(), core_app::model::Role::Moderator).await.unwrap();
    let (client, secret) = t.create_app("admin:write").await;
    let login = json!({"grant_type": "password", "client_id": client, "client_secret": secret, "username": adam.username, "password": crate::PASSWORD, "scope": "admin:write"});
    let token = t.post("/oauth/token", None, login).await.expect(200)["access_token"].as_str().unwrap().to_owned();
    t.post(&format!("/api/v1/admin/accounts/{account}/action"), Some(&token), json!({"type": "suspend"})).await.expect(200);
    for url in &urls {
        assert_eq!(fetch(&t, url).await.0, 404, "{url}");
    }
}

// Videos and GIFs: processed by jobs through ffmpeg (Debian's package; the tests need it).

/// Runs ffmpeg with `args` to make `name` in a temporary directory; returns its bytes.
fn ffmpeg_make(name: &str, args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(name);
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .arg(&out)
        .status()
        .expect("ffmpeg is installed (apt-get install ffmpeg)");
    assert!(status.success());
    std::fs::read(out).unwrap()
}

/// What ffprobe says of `bytes`: (codec type, codec name) of each stream.
fn streams_of(bytes: &[u8]) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("probe.mp4");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("ffprobe").args(["-v", "error", "-print_format", "json", "-show_streams"]).arg(&path).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["streams"].as_array().unwrap().iter().map(|s| (s["codec_type"].as_str().unwrap().to_owned(), s["codec_name"].as_str().unwrap().to_owned())).collect()
}

/// A 3-frame 120×60 animated GIF.
fn animated_gif() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
        encoder.set_repeat(image::codecs::gif::Repeat::Infinite).unwrap();
        for i in 0..3u8 {
            let frame = image::RgbaImage::from_pixel(120, 60, image::Rgba([i * 100, 255 - i * 100, 40, 255]));
            encoder.encode_frame(image::Frame::from_parts(frame, 0, 0, image::Delay::from_numer_denom_ms(100, 1))).unwrap();
        }
    }
    out
}

/// A 96×64 MPEG-4 Part 2 video with AAC audio, `seconds` long: not what browsers play, so it is transcoded.
fn mpeg4_clip(seconds: &str) -> Vec<u8> {
    ffmpeg_make(
        "clip.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc=size=96x64:rate=10:duration={seconds}"),
            "-f",
            "lavfi",
            "-i",
            &format!("sine=duration={seconds}"),
            "-c:v",
            "mpeg4",
            "-c:a",
            "aac",
            "-shortest",
        ],
    )
}

/// Polls `GET /api/v1/media/:id` until it stops answering 206 (at most 60 s).
async fn until_processed(t: &TestApp, user: &User, id: &str) -> Reply {
    for _ in 0..600 {
        let reply = t.get(&format!("/api/v1/media/{id}"), Some(&user.token)).await;
        if reply.status.as_u16() != 206 {
            return reply;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("media {id} was still processing after 60 s")
}

#[tokio::test]
async fn an_animated_gif_becomes_a_silent_looping_mp4_with_meta_and_a_poster() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let accepted = upload(&t, &alice, animated_gif(), "dance.gif", "image/gif").await.expect(202);
    assert_eq!(accepted["type"], "gifv");
    assert_eq!(accepted["url"], Value::Null, "nothing to play before processing");
    assert!(accepted["preview_url"].is_string(), "the first frame is the preview at once: {accepted}");
    let media = until_processed(&t, &alice, &id(&accepted)).await.expect(200);
    assert_eq!(media["type"], "gifv");
    let url = media["url"].as_str().unwrap();
    assert!(url.split('?').next().unwrap().ends_with("/original.mp4"), "{url}");
    let (status, headers, bytes) = fetch(&t, url).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (200, "video/mp4"));
    assert_eq!(streams_of(&bytes), vec![("video".to_owned(), "h264".to_owned())], "H.264, no audio");
    let meta = &media["meta"];
    assert_eq!((meta["original"]["width"].as_u64(), meta["original"]["height"].as_u64()), (Some(120), Some(60)), "{meta}");
    assert!(meta["original"]["duration"].as_f64().unwrap() > 0.1, "{meta}");
    assert!(meta["fps"].as_u64().unwrap() > 0, "{meta}");
    assert_eq!(meta["small"]["width"], 120, "{meta}");
    assert!(media["blurhash"].is_string());
    let (status, _, preview) = fetch(&t, media["preview_url"].as_str().unwrap()).await;
    assert_eq!((status, image::load_from_memory(&preview).unwrap().width()), (200, 120), "the first frame");
    assert_eq!(fetch(&t, &url.replace("original.mp4", "upload.gif")).await.0, 404, "the upload is not served");
    let status = t.post_status(&alice, json!({"status": "look", "media_ids": [id(&media)]})).await;
    assert_eq!(status["media_attachments"][0]["type"], "gifv");
    // A still GIF stays a picture.
    let still = encode(&picture(30, 20), ImageFormat::Gif);
    assert_eq!(upload(&t, &alice, still, "still.gif", "image/gif").await.expect(200)["type"], "image");
}

#[tokio::test]
async fn videos_are_transcoded_to_h264_and_aac_with_their_meta() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let clip = mpeg4_clip("1");
    // The client's name and type lie; the bytes decide.
    let thumb = encode(&picture(640, 360), ImageFormat::Png);
    let form = Form::new()
        .part("file", Part::bytes(clip.clone()).file_name("clip.png").mime_str("image/png").unwrap())
        .part("thumbnail", Part::bytes(thumb).file_name("t.png"));
    let accepted = send(&t, "/api/v2/media", &alice.token, form).await.expect(202);
    assert_eq!(accepted["type"], "video");
    let media = until_processed(&t, &alice, &id(&accepted)).await.expect(200);
    let (status, headers, bytes) = fetch(&t, media["url"].as_str().unwrap()).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (200, "video/mp4"));
    assert_ne!(bytes, clip);
    assert_eq!(streams_of(&bytes), vec![("video".to_owned(), "h264".to_owned()), ("audio".to_owned(), "aac".to_owned())]);
    let meta = &media["meta"];
    assert_eq!((meta["width"].as_u64(), meta["height"].as_u64(), meta["size"].as_str()), (Some(96), Some(64), Some("96x64")), "{meta}");
    assert!((meta["original"]["duration"].as_f64().unwrap() - 1.0).abs() < 0.3, "{meta}");
    assert_eq!(meta["original"]["frame_rate"], "10/1", "{meta}");
    assert_eq!(meta["small"]["width"], 400, "the thumbnail stays the preview: {meta}");
    // POST /api/v1/media answers once processed.
    let webm = ffmpeg_make("v.webm", &["-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1", "-c:v", "libvpx"]);
    let media = send(&t, "/api/v1/media", &alice.token, Form::new().part("file", Part::bytes(webm).file_name("v.webm"))).await.expect(200);
    assert_eq!(media["type"], "video");
    assert!(media["url"].as_str().unwrap().split('?').next().unwrap().ends_with("/original.mp4"));
    assert!(media["preview_url"].is_string(), "a poster frame: {media}");
    assert_eq!(media["meta"]["original"]["width"], 64);
}

#[tokio::test]
async fn videos_that_cannot_be_read_or_are_too_long_are_refused() {
    let t = TestApp::spawn_with(|s| s.media = Some(core_app::config::MediaConfig { video_duration_limit_secs: 2, ..Default::default() })).await;
    let alice = t.register("alice").await;
    let reply = upload(&t, &alice, mp4(), "fake.mp4", "video/mp4").await;
    assert_eq!(reply.status.as_u16(), 422, "{}", reply.body);
    assert!(reply.error().contains("could not be processed"), "{}", reply.body);
    let reply = upload(&t, &alice, mpeg4_clip("3"), "long.mp4", "video/mp4").await;
    assert_eq!(reply.status.as_u16(), 422, "{}", reply.body);
    assert!(reply.error().contains("longer than 2 seconds"), "{}", reply.body);
    assert!(stored_files(&t).is_empty(), "{:?}", stored_files(&t));
}

#[tokio::test]
async fn a_job_accepted_before_a_restart_is_processed_after_it() {
    let t = TestApp::spawn_with(|s| s.media = Some(core_app::config::MediaConfig { process_jobs: false, ..Default::default() })).await;
    let alice = t.register("alice").await;
    let accepted = upload(&t, &alice, animated_gif(), "dance.gif", "image/gif").await.expect(202);
    let media = id(&accepted);
    assert_eq!(t.get(&format!("/api/v1/media/{media}"), Some(&alice.token)).await.status.as_u16(), 206);
    let early = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "too soon", "media_ids": [media]})).await;
    assert_eq!(early.status.as_u16(), 422, "{}", early.body);
    assert!(early.error().contains("not finished processing"), "{}", early.body);
    // An edit while it waits is kept.
    t.put(&format!("/api/v1/media/{media}"), Some(&alice.token), json!({"description": "dancing"})).await.expect(200);
    let dir = t.stop().await;
    let t = TestApp::spawn_in(dir, |s| s.media = Some(core_app::config::MediaConfig { processing_scan_ms: 100, ..Default::default() })).await;
    let done = until_processed(&t, &alice, &media).await.expect(200);
    assert_eq!(done["type"], "gifv");
    assert_eq!(done["description"], "dancing");
    assert_eq!(fetch(&t, done["url"].as_str().unwrap()).await.0, 200);
    t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "now", "media_ids": [media]})).await.expect(200);
}
