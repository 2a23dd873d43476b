//! Request extractors Mastodon clients need: query strings with `foo[]` arrays, bodies as
//! JSON, form or multipart text fields, flattened bracket notation, ids in paths, form booleans.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use shared::id::Id;

use crate::error::{ApiError, ApiResult};

/// Query parameters, with Mastodon's `name[]=a&name[]=b` arrays.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_html_form::from_str(query).map(Params).map_err(|e| ApiError::BadRequest(format!("Invalid query parameters: {e}")))
    }
}

/// A request body as JSON or form-urlencoded (what Mastodon clients send); empty means `{}`.
pub struct Input<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Input<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::invalid("Request body is too large")
            } else {
                ApiError::BadRequest("Could not read the request body".into())
            }
        })?;
        parse_body(&content_type, &bytes).map(Input)
    }
}

/// Decodes a body by content type: JSON, multipart, or (also with no content type) a form. A
/// non-empty body of any other type is refused (415), and so is a NUL character in any text
/// (422): no text the API stores may hold one.
pub fn parse_body<T: DeserializeOwned>(content_type: &str, bytes: &[u8]) -> ApiResult<T> {
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if media_type == "application/json" {
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| ApiError::invalid(format!("Invalid JSON body: {e}")))?;
        refuse_nul_in_json(&value)?;
        serde_json::from_value(value).map_err(|e| ApiError::invalid(format!("Invalid JSON body: {e}")))
    } else if media_type == "multipart/form-data" {
        let pairs = multipart_fields(content_type, bytes)?;
        pairs.iter().try_for_each(|(k, v)| refuse_nul(k).and_then(|()| refuse_nul(v)))?;
        serde_html_form::from_str(&serde_html_form::to_string(&pairs).map_err(ApiError::internal)?)
            .map_err(|e| ApiError::invalid(format!("Invalid form body: {e}")))
    } else if media_type.is_empty() || media_type == "application/x-www-form-urlencoded" || bytes.is_empty() {
        let text = std::str::from_utf8(bytes).map_err(|_| ApiError::BadRequest("Body is not UTF-8".into()))?;
        let pairs: Vec<(String, String)> = serde_html_form::from_str(text).map_err(|e| ApiError::invalid(format!("Invalid form body: {e}")))?;
        pairs.iter().try_for_each(|(k, v)| refuse_nul(k).and_then(|()| refuse_nul(v)))?;
        serde_html_form::from_str(text).map_err(|e| ApiError::invalid(format!("Invalid form body: {e}")))
    } else {
        Err(ApiError::UnsupportedMediaType(format!("Unsupported content type {media_type}: send JSON, a form or multipart/form-data")))
    }
}

/// 422 when `text` holds a NUL character.
pub(crate) fn refuse_nul(text: &str) -> ApiResult<()> {
    if text.contains('\0') { Err(ApiError::invalid("Validation failed: Text may not contain null characters")) } else { Ok(()) }
}

fn refuse_nul_in_json(value: &serde_json::Value) -> ApiResult<()> {
    match value {
        serde_json::Value::String(s) => refuse_nul(s),
        serde_json::Value::Array(items) => items.iter().try_for_each(refuse_nul_in_json),
        serde_json::Value::Object(map) => map.iter().try_for_each(|(k, v)| refuse_nul(k).and_then(|()| refuse_nul_in_json(v))),
        _ => Ok(()),
    }
}

/// Text fields of a multipart body (files are refused here; media have their own route).
fn multipart_fields(content_type: &str, body: &[u8]) -> ApiResult<Vec<(String, String)>> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"'))
        .ok_or_else(|| ApiError::BadRequest("Multipart body without boundary".into()))?;
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut fields = Vec::new();
    for part in text.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, value)) = part.split_once("\r\n\r\n") else { continue };
        let name = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .and_then(|l| l.split(';').find_map(|p| p.trim().strip_prefix("name=")))
            .map(|n| n.trim_matches('"').to_owned());
        if head.contains("filename=") {
            return Err(ApiError::invalid("File uploads are not accepted on this endpoint"));
        }
        if let Some(name) = name {
            fields.push((name, value.strip_suffix("\r\n").unwrap_or(value).to_owned()));
        }
    }
    Ok(fields)
}

/// Parses an id from a path segment; anything else is simply not found.
pub fn path_id(raw: &str) -> ApiResult<Id> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

/// Accepts `true`/`false`/`1`/`0`/`on`/`off` as clients send them in forms.
pub fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Text(String),
        Int(i64),
    }
    let raw: Option<Raw> = serde::Deserialize::deserialize(d)?;
    Ok(match raw {
        None => None,
        Some(Raw::Bool(b)) => Some(b),
        Some(Raw::Int(i)) => Some(i != 0),
        Some(Raw::Text(t)) => match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "on" | "yes" | "t" => Some(true),
            "" => None,
            _ => Some(false),
        },
    })
}

/// Accepts a whole number as JSON sends it (`3600`) or as forms do (`"3600"`); empty is absent.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(u64),
        Text(String),
    }
    let raw: Option<Raw> = serde::Deserialize::deserialize(d)?;
    match raw {
        None => Ok(None),
        Some(Raw::Int(n)) => Ok(Some(n)),
        Some(Raw::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(Raw::Text(t)) => t.trim().parse().map(Some).map_err(|_| serde::de::Error::custom(format!("not a whole number: {t}"))),
    }
}

/// Accepts a list of ids or names as JSON sends them (strings or numbers) or as forms do
/// (repeated `key[]` strings); a single value is a list of one.
pub fn string_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum One {
        Text(String),
        Int(u64),
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Many(Vec<One>),
        One(One),
    }
    let text = |one: One| match one {
        One::Text(t) => t,
        One::Int(n) => n.to_string(),
    };
    Ok(match <Option<Raw> as serde::Deserialize>::deserialize(d)? {
        None => Vec::new(),
        Some(Raw::Many(items)) => items.into_iter().map(text).collect(),
        Some(Raw::One(one)) => vec![text(one)],
    })
}

/// A body as flat `key=value` pairs in bracket notation, whatever its encoding: JSON objects
/// are flattened (`{"source":{"privacy":"x"}}` → `source[privacy]=x`), so endpoints with nested
/// Rails-style parameters parse one shape.
pub struct FlatInput(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FlatInput {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
        if is_json {
            let Input(value) = Input::<serde_json::Value>::from_request(req, state).await?;
            let mut pairs = Vec::new();
            flatten_json(&value, String::new(), &mut pairs);
            Ok(FlatInput(pairs))
        } else {
            Input::<Vec<(String, String)>>::from_request(req, state).await.map(|Input(pairs)| FlatInput(pairs))
        }
    }
}

/// A body as flat pairs ([`FlatInput`]) plus the files of a multipart body (the parts with a
/// file name), each `(field name, bytes)`: what endpoints taking text and pictures read.
pub struct FormWithFiles {
    pub pairs: Vec<(String, String)>,
    pub files: Vec<(String, Vec<u8>)>,
}

impl<S: Send + Sync> FromRequest<S> for FormWithFiles {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_multipart =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
        if !is_multipart {
            let FlatInput(pairs) = FlatInput::from_request(req, state).await?;
            return Ok(FormWithFiles { pairs, files: Vec::new() });
        }
        let mut multipart =
            axum::extract::Multipart::from_request(req, state).await.map_err(|_| ApiError::BadRequest("Multipart body without boundary".into()))?;
        let failed = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::invalid("Validation failed: File is too large")
            } else {
                ApiError::invalid("Validation failed: The multipart body could not be read")
            }
        };
        let mut form = FormWithFiles { pairs: Vec::new(), files: Vec::new() };
        while let Some(field) = multipart.next_field().await.map_err(failed)? {
            let name = field.name().unwrap_or("").to_owned();
            if field.file_name().is_some() {
                form.files.push((name, field.bytes().await.map_err(failed)?.to_vec()));
            } else {
                let text = field.text().await.map_err(failed)?;
                refuse_nul(&name)?;
                refuse_nul(&text)?;
                form.pairs.push((name, text));
            }
        }
        Ok(form)
    }
}

fn flatten_json(value: &serde_json::Value, prefix: String, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    let child = |key: &str| if prefix.is_empty() { key.to_owned() } else { format!("{prefix}[{key}]") };
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| flatten_json(v, child(k), out)),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| flatten_json(v, child(&i.to_string()), out)),
        Value::Null => {}
        Value::String(s) => out.push((prefix, s.clone())),
        other => out.push((prefix, other.to_string())),
    }
}

/// Reads a form boolean as Rails does.
pub fn truthy(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "true" | "1" | "on" | "yes" | "t")
}
