//! Presigned uploads: the client asks the edge for a URL, PUTs the file straight to S3, then
//! tells core (`POST /api/starling/v1/media/:id/complete`), which processes it like any upload.

use serde::Deserialize;
use shared::sigv4::{Presign, presign_url};

use crate::auth::Caller;
use crate::ports::{Clock, Kv, Upstream};
use crate::{Edge, EdgeRequest, EdgeResponse};

const IMAGE_TYPES: &[(&str, &str)] = &[("image/jpeg", "jpg"), ("image/png", "png"), ("image/gif", "gif"), ("image/webp", "webp")];
const VIDEO_TYPES: &[(&str, &str)] = &[("video/mp4", "mp4"), ("video/webm", "webm")];

#[derive(Deserialize)]
struct UploadRequest {
    content_type: Option<String>,
    size: Option<u64>,
    file_name: Option<String>,
}

impl<K: Kv, U: Upstream, C: Clock> Edge<K, U, C> {
    /// `POST /api/starling/v1/media/uploads`.
    pub(crate) async fn presign_upload(&self, request: &EdgeRequest, caller: Option<&Caller>) -> EdgeResponse {
        let Some(uploads) = &self.config.uploads else {
            return EdgeResponse::error(503, "Direct uploads are not configured");
        };
        let Some(caller) = caller else { return EdgeResponse::error(401, "The access token is invalid") };
        let Some(account) = caller.account else { return EdgeResponse::error(422, "This method requires an authenticated user") };
        if !caller.scopes.allows("write:media") {
            return EdgeResponse::error(403, "This action is outside the authorized scopes");
        }
        let body: UploadRequest = match serde_json::from_slice(&request.body) {
            Ok(b) => b,
            Err(_) => return EdgeResponse::error(422, "Body must be JSON with content_type, size and file_name"),
        };
        let Some(content_type) = body.content_type.map(|c| c.trim().to_ascii_lowercase()) else {
            return EdgeResponse::error(422, "Validation failed: content_type is required");
        };
        let (limit, ext) = if let Some((_, ext)) = IMAGE_TYPES.iter().find(|(t, _)| *t == content_type) {
            (uploads.max_image_bytes, *ext)
        } else if let Some((_, ext)) = VIDEO_TYPES.iter().find(|(t, _)| *t == content_type) {
            (uploads.max_video_bytes, *ext)
        } else {
            return EdgeResponse::error(422, &format!("Validation failed: file type {content_type} is not supported"));
        };
        let size = match body.size {
            Some(0) | None => return EdgeResponse::error(422, "Validation failed: size must be a positive number of bytes"),
            Some(s) if s > limit => return EdgeResponse::error(422, &format!("Validation failed: file is larger than {limit} bytes")),
            Some(s) => s,
        };
        if body.file_name.as_deref().is_some_and(|n| n.chars().count() > 255 || n.chars().any(char::is_control)) {
            return EdgeResponse::error(422, "Validation failed: file_name is invalid");
        }
        let id = self.next_id();
        let now_secs = self.clock.now_ms() / 1000;
        let (scheme, host) = uploads.endpoint.split_once("://").unwrap_or(("https", uploads.endpoint.as_str()));
        let path = format!("/{}/uploads/{account}/{id}.{ext}", uploads.bucket);
        let size_text = size.to_string();
        let url = presign_url(
            &uploads.credentials,
            &Presign {
                method: "PUT",
                scheme,
                host,
                path: &path,
                region: &uploads.region,
                service: "s3",
                signed_headers: &[("content-type", &content_type), ("content-length", &size_text)],
                expires_secs: uploads.expires_secs,
                now_secs,
            },
        );
        EdgeResponse::json(
            200,
            &serde_json::json!({
                "id": id.to_string(),
                "upload": {
                    "method": "PUT",
                    "url": url,
                    "headers": { "Content-Type": content_type, "Content-Length": size_text },
                    "expires_at": shared::wire::timestamp((now_secs + uploads.expires_secs) * 1000),
                },
                "complete_url": format!("/api/starling/v1/media/{id}/complete"),
            }),
        )
    }
}
