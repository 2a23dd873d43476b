//! Instance metadata: `/api/v1|v2/instance`, discovery documents, emojis, preferences.

pub mod handlers;
