//! Media: uploads through the pipeline (metadata stripped, previews, blurhash), files served
//! at stable URLs, ownership, attachments on statuses, bad input, presigned completion.

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
fn stored_files(t: &TestApp) -> Vec<std::path::PathBuf> {
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

    let url = media["url"].as_str().unwrap();
    assert!(url.starts_with(&t.base) && url.ends_with("/original.jpg"), "{url}");
    let (status, headers, bytes) = fetch(&t, url).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert!(headers["cache-control"].to_str().unwrap().contains("immutable"));
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
async fn videos_are_recognised_by_their_bytes_and_kept_as_they_are() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let clip = mp4();
    // The client's name and type lie; the bytes decide.
    let thumb = encode(&picture(640, 360), ImageFormat::Png);
    let form = Form::new()
        .part("file", Part::bytes(clip.clone()).file_name("clip.png").mime_str("image/png").unwrap())
        .part("thumbnail", Part::bytes(thumb).file_name("t.png"));
    let media = send(&t, "/api/v2/media", &alice.token, form).await.expect(200);
    assert_eq!(media["type"], "video");
    assert!(media["url"].as_str().unwrap().ends_with("/original.mp4"));
    assert_eq!(media["meta"]["small"]["width"], 400, "the thumbnail became the preview");
    let (status, headers, bytes) = fetch(&t, media["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "video/mp4");
    assert_eq!(bytes, clip, "stored byte for byte");

    // Larger than the 1 MB limit of other routes: uploads have their own.
    let mut long_clip = mp4();
    long_clip.resize(3 * 1024 * 1024, 7);
    let media = upload(&t, &alice, long_clip.clone(), "long.mp4", "video/mp4").await.expect(200);
    assert_eq!(fetch(&t, media["url"].as_str().unwrap()).await.2, long_clip);

    let webm = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm\x42\x87\x81\x04".to_vec();
    let media = upload(&t, &alice, webm, "v.webm", "video/webm").await.expect(200);
    assert_eq!(media["type"], "video");
    assert_eq!(media["preview_url"], Value::Null);
    let (_, headers, _) = fetch(&t, media["url"].as_str().unwrap()).await;
    assert_eq!(headers["content-type"], "video/webm");
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
