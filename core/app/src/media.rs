//! Media attachments: uploads (`POST /api/v1|v2/media`), the owner's view and edits
//! (`GET/PUT/DELETE /api/v1/media/:id`), completing a presigned upload the edge issued
//! (`POST /api/starling/v1/media/:id/complete`), and serving the stored files
//! (`GET /system/media/:id/:file`).
//!
//! Processing ([`pipeline`]) happens in memory before anything is stored, so a refused file
//! leaves nothing behind. Accepted files are written to the [`MediaStore`](crate::ports::MediaStore)
//! first and the record is committed after; if the commit fails the files are removed again.
//! Files are served only while a record names them.

pub mod pipeline;

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use shared::id::Id;
use shared::wire;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{Input, path_id};
use crate::model::{self, MediaFile, MediaRecord};
use crate::ports::{Condition, MediaStoreError, StoreError, Write};
use crate::{App, keys, now_ms};

use self::pipeline::{Processed, Rejected};

/// Media routes, with a body limit sized for the largest upload (only here).
pub fn routes(app: &App) -> Router<App> {
    let m = &app.config.media;
    let upload_limit = usize::try_from(m.video_size_limit.saturating_add(m.image_size_limit).saturating_add(1024 * 1024)).unwrap_or(usize::MAX);
    Router::new()
        .route("/api/v1/media", post(create_v1).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/api/v2/media", post(create_v2).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/api/v1/media/{id}", get(show).put(update).delete(destroy))
        .route("/api/starling/v1/media/{id}/complete", post(complete))
        .route("/system/media/{id}/{file}", get(serve))
}

impl From<MediaStoreError> for ApiError {
    fn from(e: MediaStoreError) -> Self {
        match e {
            MediaStoreError::InvalidKey(key) => ApiError::internal(format!("invalid media key {key}")),
            MediaStoreError::Backend(cause) => ApiError::Unavailable(crate::ports::error_chain(&*cause)),
        }
    }
}

impl From<Rejected> for ApiError {
    fn from(e: Rejected) -> Self {
        ApiError::invalid(e.to_string())
    }
}

/// Description and focal point, as sent with an upload or an update.
#[derive(Debug, Default, Deserialize)]
pub struct MediaParams {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    focus: Option<String>,
}

impl MediaParams {
    fn description(&self, app: &App) -> ApiResult<Option<String>> {
        let Some(d) = self.description.as_deref().map(str::trim) else { return Ok(None) };
        let limit = app.config.media.description_limit;
        if d.chars().count() > limit {
            return Err(ApiError::invalid(format!("Validation failed: Description is too long (maximum is {limit} characters)")));
        }
        Ok((!d.is_empty()).then(|| d.to_owned()))
    }

    fn focus(&self) -> ApiResult<Option<(f64, f64)>> {
        let Some(raw) = self.focus.as_deref().map(str::trim).filter(|f| !f.is_empty()) else { return Ok(None) };
        let bad = || ApiError::invalid("Validation failed: Focus must be two numbers between -1.0 and 1.0, as \"x,y\"");
        let (x, y) = raw.split_once(',').ok_or_else(bad)?;
        let (x, y): (f64, f64) = (x.trim().parse().map_err(|_| bad())?, y.trim().parse().map_err(|_| bad())?);
        if !(-1.0..=1.0).contains(&x) || !(-1.0..=1.0).contains(&y) {
            return Err(bad());
        }
        Ok(Some((x, y)))
    }
}

/// A multipart upload, read whole.
struct Upload {
    file: Option<Vec<u8>>,
    thumbnail: Option<Vec<u8>>,
    params: MediaParams,
}

async fn read_upload(multipart: Result<Multipart, MultipartRejection>) -> ApiResult<Upload> {
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

impl App {
    /// Runs the pipeline on `bytes` and stores the result as attachment `id` of `owner`:
    /// files first, then the record; on any failure nothing stays behind.
    async fn store_media(&self, owner: Id, id: Id, bytes: Vec<u8>, thumbnail: Option<Vec<u8>>, params: &MediaParams) -> ApiResult<MediaRecord> {
        let description = params.description(self)?;
        let focus = params.focus()?;
        let limits = self.config.media.clone();
        let processed: Processed =
            tokio::task::spawn_blocking(move || pipeline::process(&bytes, thumbnail.as_deref(), &limits)).await.map_err(crate::join_error)??;
        let meta = processed.meta();
        let original = MediaFile {
            key: format!("media/{id}/original.{}", processed.original.ext),
            mime: processed.original.mime.into(),
            bytes: len(&processed.original.bytes),
        };
        let small = processed.small.as_ref().map(|s| MediaFile { key: format!("media/{id}/small.{}", s.ext), mime: s.mime.into(), bytes: len(&s.bytes) });
        let record = MediaRecord {
            id,
            account_id: owner,
            kind: processed.kind.as_str().into(),
            original,
            small,
            meta,
            blurhash: processed.blurhash.clone(),
            description,
            focus,
            created_at: now_ms(),
        };
        let mut written = Vec::new();
        let files = std::iter::once((&record.original, processed.original.bytes)).chain(record.small.as_ref().zip(processed.small.map(|s| s.bytes)));
        for (file, bytes) in files {
            if let Err(e) = self.media.put(&file.key, bytes, &file.mime).await {
                self.remove_files(&written).await;
                return Err(e.into());
            }
            written.push(file.key.clone());
        }
        match self.store.transact(vec![model::put(keys::media(id), &record, Condition::NotExists)?], vec![]).await {
            Ok(()) => Ok(record),
            Err(e) => {
                self.remove_files(&written).await;
                match e {
                    StoreError::ConditionFailed { .. } => Err(ApiError::Conflict("This media has already been processed".into())),
                    other => Err(other.into()),
                }
            }
        }
    }

    /// Best-effort removal of files no record names (logged when it fails).
    async fn remove_files(&self, keys: &[String]) {
        for key in keys {
            if let Err(e) = self.media.delete(key).await {
                tracing::warn!(error = %e, key, "could not remove an unreferenced media file");
            }
        }
    }

    /// Media records by id; missing ones are absent.
    pub async fn media_records(&self, ids: &[Id]) -> ApiResult<std::collections::HashMap<Id, MediaRecord>> {
        let keys: Vec<_> = ids.iter().map(|id| keys::media(*id)).collect();
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        for item in self.store.get_many(&keys).await?.iter().flatten() {
            let record: MediaRecord = model::decode(item)?;
            out.insert(record.id, record);
        }
        Ok(out)
    }

    /// The caller's own attachment that is not attached to a status yet, or 404 (as Mastodon:
    /// once attached, it is edited through the status).
    async fn own_unattached_media(&self, me: Id, id: Id) -> ApiResult<MediaRecord> {
        let items = self.store.get_many(&[keys::media(id), keys::media_attachment(id)]).await?;
        let [Some(item), attached] = items.as_slice() else { return Err(ApiError::NotFound) };
        let record: MediaRecord = model::decode(item)?;
        if record.account_id != me || attached.is_some() {
            return Err(ApiError::NotFound);
        }
        Ok(record)
    }

    /// The public URL of a stored file.
    fn media_url(&self, file: &MediaFile) -> String {
        self.media.public_url(&file.key).unwrap_or_else(|| format!("{}/system/{}", self.config.instance.base_url, file.key))
    }

    /// The wire entity of an attachment.
    pub fn media_entity(&self, r: &MediaRecord) -> wire::MediaAttachment {
        let mut meta = r.meta.clone();
        if let (Some((x, y)), Some(map)) = (r.focus, meta.as_object_mut()) {
            map.insert("focus".into(), serde_json::json!({ "x": x, "y": y }));
        }
        wire::MediaAttachment {
            id: r.id,
            kind: r.kind.clone(),
            url: Some(self.media_url(&r.original)),
            preview_url: r.small.as_ref().map(|s| self.media_url(s)),
            remote_url: None,
            meta,
            description: r.description.clone(),
            blurhash: r.blurhash.clone(),
        }
    }

    /// Checks attachments a status is about to take: at most the limit, all the author's,
    /// all existing. Returns them in the given order (duplicates dropped).
    pub async fn attachable_media(&self, author: Id, raw: &[String]) -> ApiResult<Vec<Id>> {
        let mut ids: Vec<Id> = Vec::with_capacity(raw.len());
        for r in raw.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
            let id: Id = r.parse().map_err(|_| ApiError::invalid(format!("Validation failed: Media attachment {r} does not exist")))?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let max = self.config.limits.max_media_attachments;
        if ids.len() > max {
            return Err(ApiError::invalid(format!("Validation failed: Cannot attach more than {max} files")));
        }
        let records = self.media_records(&ids).await?;
        for id in &ids {
            if records.get(id).is_none_or(|r| r.account_id != author) {
                return Err(ApiError::invalid(format!("Validation failed: Media attachment {id} does not exist")));
            }
        }
        Ok(ids)
    }
}

fn len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

async fn upload(app: &App, auth: &Auth, multipart: Result<Multipart, MultipartRejection>) -> ApiResult<wire::MediaAttachment> {
    let me = auth.user("write:media")?;
    let upload = read_upload(multipart).await?;
    let file = upload.file.ok_or_else(|| ApiError::invalid("Validation failed: File can't be blank"))?;
    let record = app.store_media(me, app.next_id()?, file, upload.thumbnail, &upload.params).await?;
    Ok(app.media_entity(&record))
}

/// `POST /api/v1/media`: processed synchronously.
pub async fn create_v1(State(app): State<App>, auth: Auth, multipart: Result<Multipart, MultipartRejection>) -> ApiResult<Json<wire::MediaAttachment>> {
    upload(&app, &auth, multipart).await.map(Json)
}

/// `POST /api/v2/media`: 200 because processing finishes within the request (images are
/// re-encoded in memory, videos are stored as they are); Mastodon's 202 is for deferred work.
pub async fn create_v2(State(app): State<App>, auth: Auth, multipart: Result<Multipart, MultipartRejection>) -> ApiResult<Json<wire::MediaAttachment>> {
    upload(&app, &auth, multipart).await.map(Json)
}

/// `GET /api/v1/media/:id` (the uploader's, before it is attached).
pub async fn show(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::MediaAttachment>> {
    let me = auth.user("write:media")?;
    let record = app.own_unattached_media(me, path_id(&id)?).await?;
    Ok(Json(app.media_entity(&record)))
}

/// `PUT /api/v1/media/:id`: description and focus.
pub async fn update(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(p): Input<MediaParams>) -> ApiResult<Json<wire::MediaAttachment>> {
    let me = auth.user("write:media")?;
    let mut record = app.own_unattached_media(me, path_id(&id)?).await?;
    if p.description.is_some() {
        record.description = p.description(&app)?;
    }
    if p.focus.is_some() {
        record.focus = p.focus()?;
    }
    match app.store.transact(vec![model::put(keys::media(record.id), &record, Condition::Exists)?], vec![]).await {
        Ok(()) => Ok(Json(app.media_entity(&record))),
        Err(StoreError::ConditionFailed { .. }) => Err(ApiError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// `DELETE /api/v1/media/:id`: removes an unattached upload and its files.
pub async fn destroy(State(app): State<App>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<wire::MediaAttachment>> {
    let me = auth.user("write:media")?;
    let record = app.own_unattached_media(me, path_id(&id)?).await?;
    // Claiming the attachment slot in the same transaction makes a racing status post fail
    // (its claim finds this tombstone) instead of attaching a file that is being removed.
    let writes = vec![
        Write::Delete { key: keys::media(record.id), condition: Condition::Exists },
        model::put(keys::media_attachment(record.id), &model::Ref { id: Id::MIN }, Condition::NotExists)?,
    ];
    match app.store.transact(writes, vec![]).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Err(ApiError::NotFound),
        Err(e) => return Err(e.into()),
    }
    let entity = app.media_entity(&record);
    let files: Vec<String> = std::iter::once(record.original.key).chain(record.small.map(|s| s.key)).collect();
    app.remove_files(&files).await;
    Ok(Json(entity))
}

/// `POST /api/starling/v1/media/:id/complete`: the client has PUT the file to the object store
/// at the key the edge presigned (`uploads/{account}/{id}.{ext}`); core reads it, runs it
/// through the same pipeline as a direct upload, and removes the upload object.
pub async fn complete(State(app): State<App>, auth: Auth, Path(id): Path<String>, Input(p): Input<MediaParams>) -> ApiResult<Json<wire::MediaAttachment>> {
    let me = auth.user("write:media")?;
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
            app.store.transact(vec![model::put(keys::media(record.id), &record, Condition::Exists)?], vec![]).await?;
            Ok(Json(app.media_entity(&record)))
        }
        Completion::Done(record) => Ok(Json(app.media_entity(&record))),
        Completion::NotOwner | Completion::NoUpload => Err(ApiError::NotFound),
    }
}

/// What completing a presigned upload came to.
#[derive(Debug)]
pub enum Completion {
    /// The attachment exists: made now, or by an earlier completion of the same upload.
    Done(Box<MediaRecord>),
    /// The id belongs to another account's attachment.
    NotOwner,
    /// No attachment and no upload object under that id.
    NoUpload,
}

/// Where an upload object reported by the object store belongs: `uploads/{account}/{id}.{ext}`.
pub fn parse_upload_key(key: &str) -> Option<(Id, Id)> {
    let rest = key.strip_prefix("uploads/")?;
    let (account, file) = rest.split_once('/')?;
    let (id, ext) = file.split_once('.')?;
    if !UPLOAD_EXTENSIONS.contains(&ext) {
        return None;
    }
    Some((Id::from_u64(account.parse().ok()?), Id::from_u64(id.parse().ok()?)))
}

impl App {
    /// Completes upload `id` of `owner`: reads the object the edge presigned
    /// (`uploads/{owner}/{id}.{ext}`), runs it through the same pipeline as a direct upload,
    /// and removes the upload object. Idempotent: an attachment already made is returned as is,
    /// so the client's `complete` call and the object-created notification may race.
    pub async fn complete_upload(&self, owner: Id, id: Id, params: &MediaParams) -> ApiResult<Completion> {
        if let Some(existing) = self.media_records(&[id]).await?.remove(&id) {
            return Ok(if existing.account_id == owner { Completion::Done(Box::new(existing)) } else { Completion::NotOwner });
        }
        for ext in UPLOAD_EXTENSIONS {
            let key = format!("uploads/{owner}/{id}.{ext}");
            let Some(bytes) = self.media.get(&key).await? else { continue };
            let result = self.store_media(owner, id, bytes, None, params).await;
            if !matches!(result, Err(ApiError::Unavailable(_) | ApiError::Internal(_))) {
                // Accepted, or refused for good: either way the upload object has served its purpose.
                self.remove_files(&[key]).await;
            }
            return match result {
                Ok(record) => Ok(Completion::Done(Box::new(record))),
                // The other completion of the same upload won the race.
                Err(ApiError::Conflict(_)) => match self.media_records(&[id]).await?.remove(&id) {
                    Some(existing) if existing.account_id == owner => Ok(Completion::Done(Box::new(existing))),
                    Some(_) => Ok(Completion::NotOwner),
                    None => Err(ApiError::Conflict("This media has already been processed".into())),
                },
                Err(e) => Err(e),
            };
        }
        Ok(Completion::NoUpload)
    }
}

/// Extensions the edge gives upload objects (`edge/app/src/uploads.rs`).
const UPLOAD_EXTENSIONS: [&str; 6] = ["jpg", "png", "gif", "webp", "mp4", "webm"];

/// `GET /system/media/:id/:file`: a stored file, immutable once written.
pub async fn serve(State(app): State<App>, Path((id, file)): Path<(String, String)>) -> ApiResult<Response> {
    let id = path_id(&id)?;
    let record = app.media_records(&[id]).await?.remove(&id).ok_or(ApiError::NotFound)?;
    let wanted = format!("media/{id}/{file}");
    let stored = std::iter::once(&record.original).chain(record.small.as_ref()).find(|f| f.key == wanted).ok_or(ApiError::NotFound)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_keys_name_their_account_and_media_id() {
        assert_eq!(parse_upload_key("uploads/7/4242.png"), Some((Id::from_u64(7), Id::from_u64(4242))));
        assert_eq!(parse_upload_key("uploads/7/4242.webm"), Some((Id::from_u64(7), Id::from_u64(4242))));
        for other in [
            "media/1/original.png",
            "uploads/7/4242.exe",
            "uploads/x/1.png",
            "uploads/7/a.png",
            "uploads/7/8/9.png",
            "uploads/7/9",
            "uploads/not-an-upload.txt",
        ] {
            assert_eq!(parse_upload_key(other), None, "{other}");
        }
    }
}
