//! The use cases and the reads they share; no HTTP type reaches here.

use core_ports::keys::{UPLOAD_EXTENSIONS, upload_key};
use serde::Deserialize;
use shared::id::Id;
use shared::wire;

use crate::error::{ApiError, ApiResult};
use std::collections::HashMap;

use crate::model::{self, MediaFile, MediaJob, MediaProcessing, MediaRecord, PictureRecord, Ref, StatusRecord};
use crate::ports::MediaStoreError;
use crate::{App, keys, now_ms, now_secs, policy, signed_urls};

use super::pipeline::{self, Picture, Processed, Rejected};
use super::video::{self, VideoError};
use super::writes;

/// The largest request body an upload may have: a video and its thumbnail, plus form overhead.
pub fn upload_limit(m: &crate::config::MediaConfig) -> usize {
    usize::try_from(m.video_size_limit.saturating_add(m.image_size_limit).saturating_add(1024 * 1024)).unwrap_or(usize::MAX)
}

/// The largest `update_credentials` body: an avatar and a header, plus the form.
pub fn profile_upload_limit(m: &crate::config::MediaConfig) -> usize {
    usize::try_from(m.profile_image_size_limit.saturating_mul(2).saturating_add(1024 * 1024)).unwrap_or(usize::MAX)
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

/// Which URLs an attachment is rendered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileUrls {
    /// Stable and cacheable: the files of statuses anyone may see.
    Stable,
    /// Signed, valid for `[media] signed_url_ttl_secs`: every other file, rendered only for
    /// viewers who may see it.
    Signed,
}

impl FileUrls {
    /// The URLs of the attachments of `status` (`None`: held by no status, the uploader's).
    pub fn of(status: Option<&StatusRecord>) -> Self {
        if policy::visibility::media_public(status) { FileUrls::Stable } else { FileUrls::Signed }
    }
}

/// Description and focal point, as sent with an upload or an update.
#[derive(Debug, Default, Deserialize)]
pub struct MediaParams {
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) focus: Option<String>,
}

impl MediaParams {
    pub(crate) fn description(&self, app: &App) -> ApiResult<Option<String>> {
        let Some(d) = self.description.as_deref().map(str::trim) else { return Ok(None) };
        crate::http::extract::refuse_nul(d)?;
        let limit = app.config.media.description_limit;
        if d.chars().count() > limit {
            return Err(ApiError::invalid(format!("Validation failed: Description is too long (maximum is {limit} characters)")));
        }
        Ok((!d.is_empty()).then(|| d.to_owned()))
    }

    pub(crate) fn focus(&self) -> ApiResult<Option<(f64, f64)>> {
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

impl App {
    /// Runs the pipeline on `bytes` and stores the result as attachment `id` of `owner`:
    /// files first, then the record; on any failure nothing stays behind.
    pub(crate) async fn store_media(&self, owner: Id, id: Id, bytes: Vec<u8>, thumbnail: Option<Vec<u8>>, params: &MediaParams) -> ApiResult<MediaRecord> {
        let description = params.description(self)?;
        let focus = params.focus()?;
        let limits = self.config.media.clone();
        // The decode's share of the pixel budget, held by the blocking task until it ends.
        let pixels = pipeline::pixels(&bytes, thumbnail.as_deref(), &limits);
        let permit = self.decodes.acquire(pixels, std::time::Duration::from_millis(limits.decode_wait_ms)).await.ok_or_else(|| {
            ApiError::Unavailable(format!("image decode budget ({} pixels) stayed taken for {} ms", limits.decode_pixel_budget, limits.decode_wait_ms))
        })?;
        let processed: Processed = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            pipeline::process(&bytes, thumbnail.as_deref(), &limits)
        })
        .await
        .map_err(crate::join_error)??;
        if processed.deferred {
            // What can be known before accepting (a file ffprobe cannot read, over the
            // duration or pixel limits) is refused now; the transcoding waits for a job.
            let limits = self.config.media.clone();
            let (upload, ext) = (processed.original.bytes.clone(), processed.original.ext);
            tokio::task::spawn_blocking(move || video::inspect(&upload, ext, &limits)).await.map_err(crate::join_error)?.map_err(|e| match e {
                VideoError::Rejected(_) => ApiError::invalid(e.to_string()),
                VideoError::Failed(why) => ApiError::Unavailable(why),
            })?;
        }
        let meta = processed.meta();
        // The random token makes the files' URLs unguessable (the id is only time-based).
        let dir = format!("media/{id}/{}", signed_urls::new_token());
        let name = if processed.deferred { "upload" } else { "original" };
        let original =
            MediaFile { key: format!("{dir}/{name}.{}", processed.original.ext), mime: processed.original.mime.into(), bytes: len(&processed.original.bytes) };
        let small = processed.small.as_ref().map(|s| MediaFile { key: format!("{dir}/small.{}", s.ext), mime: s.mime.into(), bytes: len(&s.bytes) });
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
            processing: processed.deferred.then_some(MediaProcessing { gifv: processed.kind == pipeline::Kind::Gifv, failed: false }),
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
        let due = now_ms();
        let saved = if record.processing.is_some() { writes::create_with_job(self, &record, due).await } else { writes::create(self, &record).await };
        if !matches!(saved, Ok(Ok(()))) {
            self.remove_files(&written).await;
        }
        match saved? {
            Ok(()) => {
                if record.processing.is_some() {
                    super::jobs::start(self, due, MediaJob { media: record.id, attempt: 0 });
                }
                Ok(record)
            }
            Err(_) => Err(ApiError::Conflict("This media has already been processed".into())),
        }
    }

    /// Runs an avatar or header of `owner` through the pipeline (under the decode budget) and
    /// stores its files; the caller saves the record naming them (or removes them again).
    pub(crate) async fn store_profile_picture(&self, owner: Id, which: Picture, bytes: Vec<u8>) -> ApiResult<PictureRecord> {
        let limits = self.config.media.clone();
        let pixels = pipeline::profile_pixels(&bytes, &limits);
        let permit = self.decodes.acquire(pixels, std::time::Duration::from_millis(limits.decode_wait_ms)).await.ok_or_else(|| {
            ApiError::Unavailable(format!("image decode budget ({} pixels) stayed taken for {} ms", limits.decode_pixel_budget, limits.decode_wait_ms))
        })?;
        let processed = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            pipeline::profile_picture(&bytes, which, &limits)
        })
        .await
        .map_err(crate::join_error)??;
        let dir = format!("accounts/{owner}/{}/{}", which.as_str(), signed_urls::new_token());
        let file = |name: &str, r: &pipeline::Rendition| MediaFile { key: format!("{dir}/{name}.{}", r.ext), mime: r.mime.into(), bytes: len(&r.bytes) };
        let record = PictureRecord { original: file("original", &processed.original), still: processed.still.as_ref().map(|s| file("static", s)) };
        let files = std::iter::once((&record.original, processed.original.bytes)).chain(record.still.as_ref().zip(processed.still.map(|s| s.bytes)));
        let mut written = Vec::new();
        for (file, bytes) in files {
            if let Err(e) = self.media.put(&file.key, bytes, &file.mime).await {
                self.remove_files(&written).await;
                return Err(e.into());
            }
            written.push(file.key.clone());
        }
        Ok(record)
    }

    /// The stable URL of a file anyone may fetch: the media store's own (a public bucket or
    /// CDN) or core's `/system/{key}`.
    pub(crate) fn stable_file_url(&self, key: &str) -> String {
        self.media.public_url(key).unwrap_or_else(|| format!("{}/system/{key}", self.config.instance.base_url))
    }

    /// File `key` of `account`'s avatar or header, while its record names it and the account is
    /// not suspended (else `None`: 404).
    pub(crate) async fn servable_profile_file(&self, account: Id, key: &str) -> ApiResult<Option<MediaFile>> {
        let Some(record) = self.account_records(&[account]).await?.remove(&account) else { return Ok(None) };
        let file = [record.avatar, record.header].into_iter().flatten().flat_map(|p| [Some(p.original), p.still]).flatten().find(|f| f.key == key);
        let Some(file) = file else { return Ok(None) };
        if self.moderation(account).await?.suspended_at.is_some() {
            return Ok(None);
        }
        Ok(Some(file))
    }

    /// Best-effort removal of files no record names (logged when it fails).
    pub(crate) async fn remove_files(&self, keys: &[String]) {
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
    pub(crate) async fn own_unattached_media(&self, me: Id, id: Id) -> ApiResult<MediaRecord> {
        let items = self.store.get_many(&[keys::media(id), keys::media_attachment(id)]).await?;
        let [Some(item), attached] = items.as_slice() else { return Err(ApiError::NotFound) };
        let record: MediaRecord = model::decode(item)?;
        if record.account_id != me || attached.is_some() {
            return Err(ApiError::NotFound);
        }
        Ok(record)
    }

    /// The URL of a stored file: stable for files anyone may see, else signed for a while (a
    /// presigned GET of the media store, or core's own signed `/system/…` URL).
    pub(crate) async fn media_url(&self, file: &MediaFile, urls: FileUrls) -> ApiResult<String> {
        let base = &self.config.instance.base_url;
        if urls == FileUrls::Stable {
            return Ok(self.stable_file_url(&file.key));
        }
        let ttl = self.config.media.signed_url_ttl_secs;
        let expires = signed_urls::expiry(ttl);
        // Signed at a time that depends on the expiry only, so repeated renders agree.
        let ttl = ttl.max(1);
        let signed_at = expires.saturating_sub(ttl + signed_urls::EXPIRY_STEP_SECS.min(ttl)).min(now_secs());
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(signed_at);
        if let Some(url) = self.media.presigned_url(&file.key, at, std::time::Duration::from_secs(expires - signed_at)).await? {
            return Ok(url);
        }
        Ok(format!("{base}/system/{}?expires={expires}&sig={}", file.key, self.media_urls.sign(&file.key, expires)))
    }

    /// The wire entity of an attachment, its URLs as `urls` says.
    pub async fn media_entity(&self, r: &MediaRecord, urls: FileUrls) -> ApiResult<wire::MediaAttachment> {
        let mut meta = r.meta.clone();
        if let (Some((x, y)), Some(map)) = (r.focus, meta.as_object_mut()) {
            map.insert("focus".into(), serde_json::json!({ "x": x, "y": y }));
        }
        let preview_url = match &r.small {
            Some(s) => Some(self.media_url(s, urls).await?),
            None => None,
        };
        let url = match r.processing {
            // The upload itself is never served: only what processing makes of it.
            Some(_) => None,
            None => Some(self.media_url(&r.original, urls).await?),
        };
        Ok(wire::MediaAttachment {
            id: r.id,
            kind: r.kind.clone(),
            url,
            preview_url,
            remote_url: None,
            meta,
            description: r.description.clone(),
            blurhash: r.blurhash.clone(),
        })
    }

    /// The wire entities of the attachments of statuses the viewer may see, in each status's
    /// order: stable URLs for statuses anyone may see, signed ones for the others.
    pub(crate) async fn status_media(
        &self,
        statuses: &[&StatusRecord],
        media: &HashMap<Id, MediaRecord>,
    ) -> ApiResult<HashMap<Id, Vec<wire::MediaAttachment>>> {
        let mut out = HashMap::with_capacity(statuses.len());
        for status in statuses {
            let urls = FileUrls::of(Some(status));
            let mut entities = Vec::with_capacity(status.media.len());
            for record in status.media.iter().filter_map(|m| media.get(m)) {
                entities.push(self.media_entity(record, urls).await?);
            }
            out.insert(status.id, entities);
        }
        Ok(out)
    }

    /// Who may fetch file `key` of attachment `id`: nobody once its uploader is suspended; anyone
    /// when the status holding it is one an anonymous reader may see; otherwise only with a
    /// valid, unexpired signature (`signature`:
    /// `expires` and `sig` from the query). `None` (answered 404) for everyone else, so the
    /// file's existence is not revealed. Returns the file and, for a signed fetch, its expiry.
    pub(crate) async fn servable_file(&self, id: Id, key: &str, signature: Option<(u64, &str)>) -> ApiResult<Option<(MediaFile, Option<u64>)>> {
        let Some(record) = self.media_records(&[id]).await?.remove(&id) else { return Ok(None) };
        let original = if record.processing.is_some() { None } else { Some(record.original) };
        let Some(file) = [original, record.small].into_iter().flatten().find(|f| f.key == key) else { return Ok(None) };
        // A suspended account's files vanish with its statuses, signed URLs included.
        if self.moderation(record.account_id).await?.suspended_at.is_some() {
            return Ok(None);
        }
        if let Some((expires, sig)) = signature
            && self.media_urls.verify(&file.key, expires, sig, now_secs())
        {
            return Ok(Some((file, Some(expires))));
        }
        let holder = match self.store.get(&keys::media_attachment(id)).await? {
            Some(item) => match model::decode::<Ref>(&item)?.id {
                status if status == Id::MIN => None,
                status => self.status_records(&[status]).await?.remove(&status),
            },
            None => None,
        };
        Ok(policy::visibility::media_public(holder.as_ref()).then_some((file, None)))
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
            match records.get(id) {
                Some(r) if r.account_id == author => match r.processing {
                    None => {}
                    Some(p) if p.failed => return Err(ApiError::invalid(format!("Validation failed: Media attachment {id} could not be processed"))),
                    Some(_) => return Err(ApiError::invalid("Cannot attach files that have not finished processing. Try again in a moment!")),
                },
                _ => return Err(ApiError::invalid(format!("Validation failed: Media attachment {id} does not exist"))),
            }
        }
        Ok(ids)
    }
}

pub(crate) fn len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
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
            let key = upload_key(owner, id, ext);
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
