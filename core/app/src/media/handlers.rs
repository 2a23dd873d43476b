//! The HTTP endpoints: thin handlers that extract, call the service, and render.

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::wire;

use crate::App;
use crate::auth::{Auth, Scope};
use crate::error::{ApiError, ApiResult};
use crate::http::{Input, path_id};
use crate::model::MediaRecord;

use super::service::{Completion, FileUrls, MediaParams};
use super::writes::{self, RemoveConflict, SaveConflict};

/// A multipart upload, read whole.
pub(crate) struct Upload {
    file: Option<Vec<u8>>,
    thumbnail: Option<Vec<u8>>,
    params: MediaParams,
}

pub(crate) async fn read_upload(multipart: Result<Multipart, MultipartRejection>) -> ApiResult<Upload> {
    let mut multipart = multipart.map_err(|_| ApiError::invalid("Validation failed: The upload must be multipart/form-data with a file field"))?;
    let mut upload = Upload { file: None, thumbnail: None, params: MediaParams::default() };
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::invalid("Validation failed: File is too large")
        } else {
            ApiError::invalid("Validation failed: The multipart body could not be read")
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => upload.file = Some(field.bytes().await.map_err(failed)?.to_vec()),
            "thumbnail" => upload.thumbnail = Some(field.bytes().await.map_err(failed)?.to_vec()),
            "description" => upload.params.description = Some(field.text().await.map_err(failed)?),
            "focus" => upload.params.focus = Some(field.text().await.map_err(failed)?),
            _ => {
                field.bytes().await.map_err(failed)?;
            }
        }
    }
    Ok(upload)
}

pub(crate) async fn upload(app: &App, auth: &Auth, multipart: Result<Multipart, MultipartRejection>) -> ApiResult<MediaRecord> {
    let me = auth.user(Scope::WriteMedia)?;
    let upload = read_upload(multipart).await?;
    let file = upload.file.ok_or_else(|| ApiError::invalid("Validation failed: File can't be blank"))?;
    app.store_media(me, app.next_id()?, file, upload.thumbnail, &upload.params).await
}

/// `POST /api/v1/media`: answers once processed (a video or GIF waits for its job).
pub async fn create_v1(State(app): State<App>, auth: Auth, multipart: Result<Multipart, MultipartRejection>) -> ApiResult<Json<wire::MediaAttachment>> {
    let mut record = upload(&app, &auth, multipart).await?;
    if record.processing.is_some() && app.config.media.process_jobs {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(app.config.media.ffmpeg_timeout_secs.saturating_mul(3).max(1));
        while record.processing.is_some_and(|p| !p.failed) && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            record = app.media_records(&[record.id]).await?.remove(&record.id).ok_or(ApiError::NotFound)?;
        }
    }
    processed_entity(&app, &record).await.map(|(_, entity)| Json(entity))
}

/// `POST /api/v2/media`: 200 for pictures (processed within the request); 202 for videos and
/// GIFs, processed by a job (`GET /api/v1/media/:id` answers 206 until it is done).
pub async fn create_v2(
    State(app): State<App>,
    auth: Auth,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<wire::MediaAttachment>)> {
    let record = upload(&app, &auth, multipart).await?;
    let entity = app.media_entity(&record, FileUrls::Signed).await?;
    Ok((if record.processing.is_some() { StatusCode::ACCEPTED } else { StatusCode::OK }, Json(entity)))
}

/// The entity with Mastodon's status: 206 while processing, 422 when processing failed.
async fn processed_entity(app: &App, record: &MediaRecord) -> ApiResult<(StatusCode, wire::MediaAttachment)> {
    match record.processing {
        Some(p) if p.failed => Err(ApiError::invalid("Error processing thumbnail for uploaded media")),
        Some(_) => Ok((StatusCode::PARTIAL_CONTENT, app.media_entity(record, FileUrls::Signed).await?)),
        None => Ok((StatusCode::OK, app.media_entity(record, FileUrls::Signed).await?)),
    }
}

/// `GET /api/v1/media/:id` (the uploader's, before it is attached): 206 while processing.
pub async fn show(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<(StatusCode, Json<wire::MediaAttachment>)> {
    let me = auth.user(Scope::WriteMedia)?;
    let record = app.own_unattached_media(me, path_id(&id)?).await?;
    processed_entity(&app, &record).await.map(|(status, entity)| (status, Json(entity)))
}

/// `PUT /api/v1/media/:id`: description and focus (also while it is processed).
pub async fn update(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(p): Input<MediaParams>) -> ApiResult<Json<wire::MediaAttachment>> {
    let me = auth.user(Scope::WriteMedia)?;
    let id = path_id(&id)?;
    for _ in 0..crate::transaction::RACE_RETRIES {
        let mut record = app.own_unattached_media(me, id).await?;
        if p.description.is_some() {
            record.description = p.description(&app)?;
        }
        if p.focus.is_some() {
            record.focus = p.focus()?;
        }
        match writes::update(&app, &record).await? {
            Ok(()) => return Ok(Json(app.media_entity(&record, FileUrls::Signed).await?)),
            // Processed meanwhile: apply the change to the processed attachment.
            Err(SaveConflict::Processed) => continue,
            Err(SaveConflict::Gone | SaveConflict::AlreadyProcessed) => return Err(ApiError::NotFound),
        }
    }
    Err(ApiError::Conflict("The media attachment kept changing; try again".into()))
}

/// `DELETE /api/v1/media/:id`: removes an unattached upload and its files.
pub async fn destroy(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::MediaAttachment>> {
    let me = auth.user(Scope::WriteMedia)?;
    let record = app.own_unattached_media(me, path_id(&id)?).await?;
    match writes::remove(&app, record.id).await? {
        Ok(()) => {}
        Err(RemoveConflict::Gone | RemoveConflict::Attached) => return Err(ApiError::NotFound),
    }
    let entity = app.media_entity(&record, FileUrls::Signed).await?;
    let files: Vec<String> = std::iter::once(record.original.key).chain(record.small.map(|s| s.key)).collect();
    app.remove_files(&files).await;
    Ok(Json(entity))
}

/// `POST /api/starling/v1/media/:id/complete`: the client has PUT the file to the object store
/// at the key the edge presigned (`uploads/{account}/{id}.{ext}`); core reads it, runs it
/// through the same pipeline as a direct upload, and removes the upload object.
pub async fn complete(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(p): Input<MediaParams>) -> ApiResult<Json<wire::MediaAttachment>> {
    let me = auth.user(Scope::WriteMedia)?;
    let id = path_id(&id)?;
    match app.complete_upload(me, id, &p).await? {
        // The bucket's object-created notification may have completed it first, without the
        // description and focus the client sends here: apply them.
        Completion::Done(mut record) if (p.description.is_some() && record.description.as_deref() != p.description.as_deref()) || p.focus.is_some() => {
            if p.description.is_some() {
                record.description = p.description(&app)?;
            }
            if p.focus.is_some() {
                record.focus = p.focus()?;
            }
            if let Err(conflict) = writes::update(&app, &record).await? {
                return Err(ApiError::internal(format!("media {} could not be updated: {conflict:?}", record.id)));
            }
            Ok(Json(app.media_entity(&record, FileUrls::Signed).await?))
        }
        Completion::Done(record) => Ok(Json(app.media_entity(&record, FileUrls::Signed).await?)),
        Completion::NotOwner | Completion::NoUpload => Err(ApiError::NotFound),
    }
}

/// `expires` and `sig` of a signed file URL.
#[derive(Debug, Deserialize)]
struct Signature {
    expires: u64,
    sig: String,
}

/// `GET /system/media/:id/:token/:file`: a stored file, immutable once written. Files of
/// statuses anyone may see are served to anyone and cached for a year; the others only on a
/// signed URL (rendered for viewers who may see them), cached privately until it expires.
/// Everyone else gets 404, as if there were no such file.
pub async fn serve(State(app): State<App>, Path((id, token, file)): Path<(String, String, String)>, RawQuery(query): RawQuery) -> ApiResult<Response> {
    let id = path_id(&id)?;
    serve_file(&app, id, &format!("media/{id}/{token}/{file}"), query.as_deref()).await
}

/// `GET /system/media/:id/:file`: files stored before keys carried a token (same rules).
pub async fn serve_untokened(State(app): State<App>, Path((id, file)): Path<(String, String)>, RawQuery(query): RawQuery) -> ApiResult<Response> {
    let id = path_id(&id)?;
    serve_file(&app, id, &format!("media/{id}/{file}"), query.as_deref()).await
}

/// `GET /system/accounts/:id/:picture/:token/:file`: a file of an account's avatar or header,
/// public while the profile names it (a replaced or removed picture's files are 404, then gone).
pub async fn serve_profile(State(app): State<App>, Path((id, picture, token, file)): Path<(String, String, String, String)>) -> ApiResult<Response> {
    let account = path_id(&id)?;
    let key = format!("accounts/{account}/{picture}/{token}/{file}");
    let stored = app.servable_profile_file(account, &key).await?.ok_or(ApiError::NotFound)?;
    let bytes = app.media.get(&stored.key).await?.ok_or(ApiError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, stored.mime.clone()),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_owned()),
        ],
        Body::from(bytes),
    )
        .into_response())
}

async fn serve_file(app: &App, id: shared::id::Id, key: &str, query: Option<&str>) -> ApiResult<Response> {
    let signature: Option<Signature> = query.and_then(|q| serde_html_form::from_str(q).ok());
    let (stored, signed_until) = app.servable_file(id, key, signature.as_ref().map(|s| (s.expires, s.sig.as_str()))).await?.ok_or(ApiError::NotFound)?;
    let bytes = app.media.get(&stored.key).await?.ok_or(ApiError::NotFound)?;
    let cache = match signed_until {
        None => "public, max-age=31536000, immutable".to_owned(),
        Some(expires) => format!("private, max-age={}", expires.saturating_sub(crate::now_secs())),
    };
    Ok((
        [
            (header::CONTENT_TYPE, stored.mime.clone()),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_owned()),
        ],
        Body::from(bytes),
    )
        .into_response())
}
