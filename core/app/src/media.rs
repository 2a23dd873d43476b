//! Media attachments: uploads (`POST /api/v1|v2/media`), the owner's view and edits
//! (`GET/PUT/DELETE /api/v1/media/:id`), completing a presigned upload the edge issued
//! (`POST /api/starling/v1/media/:id/complete`), and serving the stored files
//! (`GET /system/media/:id/:file`).
//!
//! Processing ([`pipeline`]) happens in memory before anything is stored, so a refused file
//! leaves nothing behind. Accepted files are written to the [`MediaStore`](crate::ports::MediaStore)
//! first and the record is committed after; if the commit fails the files are removed again.
//! Files are served only while a record names them, and only to whoever may see them: every
//! file key carries 128 random bits ([`crate::signed_urls`]); files of statuses an anonymous reader may see
//! are served to anyone, the others only on URLs signed for viewers who may see the status
//! (`policy::visibility::media_public`). Decoding takes pixels of a shared budget ([`crate::decode_budget`]).
//!
//! [`handlers`] (HTTP, multipart) → [`service`] (processing, storing, completing uploads);
//! [`pipeline`] does the image work.

pub mod handlers;
pub mod service;
pub mod writes;

pub mod jobs;
pub mod pipeline;
pub mod video;

pub use self::service::{Completion, MediaParams, profile_upload_limit, upload_limit};
pub use core_ports::keys::parse_upload_key;
