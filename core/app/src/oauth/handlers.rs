//! The HTTP endpoints: thin handlers that extract, call the service, and render.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine as _;
use serde::Deserialize;
use shared::id::Id;
use shared::text::escape_html as escape;
use shared::token::{KeySet, Scopes, pkce_matches, secret_digest};
use shared::wire;

use super::service::{authenticate_client, check_login, consume_code, invalid_grant, is_acceptable_redirect, is_web_url, load_app};
use crate::auth::{Auth, random_secret};
use crate::error::{ApiError, ApiResult};
use crate::http::{Input, Params};
use crate::model::{self, AppRecord, CodeRecord, RefreshRecord};
use crate::ports::{Condition, Query};
use crate::{App, keys, now_secs};

/// Redirect URI meaning "show the code to the user instead of redirecting".
pub(crate) const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Body of `POST /api/v1/apps`.
#[derive(Deserialize)]
pub struct CreateApp {
    client_name: Option<String>,
    #[serde(default)]
    redirect_uris: Option<RedirectUris>,
    scopes: Option<String>,
    website: Option<String>,
}

/// `redirect_uris` comes as one string (newline-separated) or an array.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RedirectUris {
    One(String),
    Many(Vec<String>),
}

pub(crate) fn app_entity(app: &AppRecord, with_secret: Option<&str>) -> wire::Application {
    wire::Application {
        id: app.id,
        name: app.name.clone(),
        website: app.website.clone(),
        scopes: app.scopes.split(' ').map(str::to_owned).collect(),
        redirect_uri: app.redirect_uris.join("\n"),
        redirect_uris: app.redirect_uris.clone(),
        vapid_key: String::new(),
        client_id: with_secret.map(|_| app.client_id.clone()),
        client_secret: with_secret.map(str::to_owned),
        client_secret_expires_at: with_secret.map(|_| 0),
    }
}

/// `POST /api/v1/apps`.
pub async fn create_app(State(app): State<App>, Input(body): Input<CreateApp>) -> ApiResult<Json<wire::Application>> {
    let name = body
        .client_name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::invalid("Validation failed: Application name can't be blank"))?;
    if name.chars().count() > 60 {
        return Err(ApiError::invalid("Validation failed: Application name is too long (maximum is 60 characters)"));
    }
    let redirect_uris: Vec<String> = match body.redirect_uris {
        Some(RedirectUris::One(s)) => s.split(['\n', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        Some(RedirectUris::Many(v)) => v.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
        None => Vec::new(),
    };
    if redirect_uris.is_empty() {
        return Err(ApiError::invalid("Validation failed: Redirect URI can't be blank"));
    }
    for uri in &redirect_uris {
        if uri != OOB && !is_acceptable_redirect(uri) {
            return Err(ApiError::invalid("Validation failed: Redirect URI must be an absolute http(s) or app URI without a fragment"));
        }
    }
    let scopes = Scopes::parse(body.scopes.as_deref().unwrap_or("read")).map_err(|e| ApiError::invalid(format!("Validation failed: {e}")))?;
    let website = body.website.map(|w| w.trim().to_owned()).filter(|w| !w.is_empty());
    if website.as_deref().is_some_and(|w| !is_web_url(w)) {
        return Err(ApiError::invalid("Validation failed: Website is invalid"));
    }
    let client_id = random_secret(32);
    let client_secret = random_secret(32);
    let record = AppRecord {
        id: app.next_id()?,
        client_id: client_id.clone(),
        secret_digest: secret_digest(&client_secret),
        name,
        website,
        redirect_uris,
        scopes: scopes.to_string(),
    };
    let writes =
        vec![model::put(keys::app(&client_id), &record, Condition::NotExists)?, model::put(keys::app_by_id(record.id), &client_id, Condition::NotExists)?];
    app.store.transact(writes, vec![]).await?;
    Ok(Json(app_entity(&record, Some(&client_secret))))
}

/// `GET /api/v1/apps/verify_credentials`.
pub async fn verify_app(State(app): State<App>, auth: Auth) -> ApiResult<Json<wire::Application>> {
    let record = app.app_record_by_id(auth.app).await?;
    Ok(Json(app_entity(&record, None)))
}

/// Query of `GET /oauth/authorize` (and hidden fields of its form).
#[derive(Deserialize, Clone, Default)]
pub struct AuthorizeParams {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    code_challenge: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
}

/// A validated authorization request.
pub(crate) struct Authorization {
    app: AppRecord,
    scopes: Scopes,
    challenge: Option<(String, String)>,
}

pub(crate) async fn check_authorization(app: &App, p: &AuthorizeParams) -> Result<Authorization, Response> {
    let page_error = |msg: &str| (StatusCode::BAD_REQUEST, page("Authorization error", &format!("<p class=\"error\">{}</p>", escape(msg)))).into_response();
    let record = match load_app(app, &p.client_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err(page_error("Unknown client. The application that sent you here is not registered.")),
        Err(e) => return Err(e.into_response()),
    };
    if !record.redirect_uris.iter().any(|u| u == &p.redirect_uri) {
        return Err(page_error("The redirect URI is not registered for this application."));
    }
    if p.response_type != "code" {
        return Err(redirect_error(&p.redirect_uri, "unsupported_response_type", p.state.as_deref()));
    }
    let app_scopes = Scopes::parse(&record.scopes).map_err(|_| page_error("The application's scopes are invalid."))?;
    let scopes = match Scopes::parse(p.scope.as_deref().unwrap_or(&record.scopes)) {
        Ok(s) if s.is_within(&app_scopes) => s,
        _ => return Err(redirect_error(&p.redirect_uri, "invalid_scope", p.state.as_deref())),
    };
    let challenge = match (&p.code_challenge, &p.code_challenge_method) {
        (Some(c), method) if !c.is_empty() => {
            // S256 only, as Mastodon documents and our metadata advertises; a missing method
            // means `plain`, which hands the verifier to whoever sees the authorization request.
            if method.as_deref() != Some("S256") {
                return Err(redirect_error(&p.redirect_uri, "invalid_request", p.state.as_deref()));
            }
            Some(("S256".to_owned(), c.clone()))
        }
        _ => None,
    };
    Ok(Authorization { app: record, scopes, challenge })
}

pub(crate) fn redirect_error(redirect_uri: &str, code: &str, state: Option<&str>) -> Response {
    if redirect_uri == OOB {
        return (StatusCode::BAD_REQUEST, page("Authorization error", &format!("<p class=\"error\">{}</p>", escape(code)))).into_response();
    }
    Redirect::to(&with_query(redirect_uri, &[("error", code), ("state", state.unwrap_or(""))])).into_response()
}

pub(crate) fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let pairs: Vec<(&str, &str)> = pairs.iter().filter(|(_, v)| !v.is_empty()).copied().collect();
    let query = serde_html_form::to_string(&pairs).unwrap_or_default();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{query}")
}

/// `GET /oauth/authorize`: the login and consent page.
pub async fn authorize_page(State(app): State<App>, Params(p): Params<AuthorizeParams>) -> Response {
    match check_authorization(&app, &p).await {
        Ok(auth) => consent_page(&app, &p, &auth, None, StatusCode::OK),
        Err(response) => response,
    }
}

pub(crate) fn consent_page(app: &App, p: &AuthorizeParams, auth: &Authorization, error: Option<&str>, status: StatusCode) -> Response {
    let hidden = |name: &str, value: &str| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(name), escape(value));
    let scopes: String = auth.scopes.iter().map(|s| format!("<li><code>{}</code></li>", escape(s))).collect();
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    let body = format!(
        "<p><strong>{app_name}</strong> wants to use your account on <strong>{instance}</strong>.</p>\
         <p>It asks for:</p><ul>{scopes}</ul>{error}\
         <form method=\"post\" action=\"/oauth/authorize\">\
         {h1}{h2}{h3}{h4}{h5}{h6}{h7}\
         <label>Username or e-mail<input name=\"username\" autocomplete=\"username\" required autofocus></label>\
         <label>Password<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <div class=\"actions\"><button name=\"decision\" value=\"approve\" type=\"submit\">Authorize</button>\
         <button name=\"decision\" value=\"deny\" type=\"submit\" class=\"secondary\" formnovalidate>Deny</button></div>\
         </form>",
        app_name = escape(&auth.app.name),
        instance = escape(&app.config.instance.title),
        h1 = hidden("response_type", "code"),
        h2 = hidden("client_id", &p.client_id),
        h3 = hidden("redirect_uri", &p.redirect_uri),
        h4 = hidden("scope", &auth.scopes.to_string()),
        h5 = hidden("state", p.state.as_deref().unwrap_or("")),
        h6 = hidden("code_challenge", p.code_challenge.as_deref().unwrap_or("")),
        h7 = hidden("code_challenge_method", p.code_challenge_method.as_deref().unwrap_or("")),
    );
    (status, page("Authorize application", &body)).into_response()
}

/// Form of `POST /oauth/authorize`.
#[derive(Deserialize)]
pub struct AuthorizeForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    decision: String,
}

/// `POST /oauth/authorize`: checks the password, then redirects with a code (or shows it).
pub async fn authorize_submit(State(app): State<App>, Input(form): Input<AuthorizeForm>) -> Response {
    let p = form.params;
    let auth = match check_authorization(&app, &p).await {
        Ok(a) => a,
        Err(response) => return response,
    };
    if form.decision != "approve" {
        return redirect_error(&p.redirect_uri, "access_denied", p.state.as_deref());
    }
    let account = match check_login(&app, &form.username, &form.password).await {
        Ok(Some(id)) => id,
        Ok(None) => return consent_page(&app, &p, &auth, Some("Invalid username, e-mail or password."), StatusCode::UNAUTHORIZED),
        Err(ApiError::TooManyRequests { retry_after_secs }) => {
            let mut page = consent_page(&app, &p, &auth, Some("Too many failed attempts. Try again later."), StatusCode::TOO_MANY_REQUESTS);
            page.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return page;
        }
        Err(e) => return e.into_response(),
    };
    let code = random_secret(32);
    let record = CodeRecord {
        client_id: auth.app.client_id.clone(),
        account,
        redirect_uri: p.redirect_uri.clone(),
        scopes: auth.scopes.to_string(),
        challenge: auth.challenge,
        expires_at: now_secs() + app.config.auth.code_ttl_secs,
    };
    let stored = match model::put(keys::auth_code(&secret_digest(&code)), &record, Condition::NotExists) {
        Ok(w) => app.store.transact(vec![w], vec![]).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    if let Err(e) = stored {
        return e.into_response();
    }
    if p.redirect_uri == OOB {
        let body = format!("<p>Copy this authorization code into the application:</p><p><code class=\"code\">{}</code></p>", escape(&code));
        return page("Authorization code", &body).into_response();
    }
    Redirect::to(&with_query(&p.redirect_uri, &[("code", &code), ("state", p.state.as_deref().unwrap_or(""))])).into_response()
}

/// Body of `POST /oauth/token`.
#[derive(Deserialize, Default)]
pub struct TokenRequest {
    #[serde(default)]
    grant_type: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code_verifier: Option<String>,
    scope: Option<String>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
}

/// Client credentials from the body or an HTTP Basic header.
pub(crate) fn client_credentials(headers: &HeaderMap, body: &TokenRequest) -> Option<(String, String)> {
    if let (Some(id), Some(secret)) = (&body.client_id, &body.client_secret) {
        return Some((id.clone(), secret.clone()));
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `POST /oauth/token`.
pub async fn token(State(app): State<App>, headers: HeaderMap, Input(body): Input<TokenRequest>) -> ApiResult<Response> {
    let (client_id, client_secret) =
        client_credentials(&headers, &body).ok_or_else(|| ApiError::oauth("invalid_client", "Client authentication is required."))?;
    let client = authenticate_client(&app, &client_id, &client_secret).await?;
    let app_scopes = Scopes::parse(&client.scopes).map_err(ApiError::internal)?;
    let requested = |fallback: &str| -> ApiResult<Scopes> {
        let scopes = Scopes::parse(body.scope.as_deref().filter(|s| !s.trim().is_empty()).unwrap_or(fallback))
            .map_err(|_| ApiError::oauth("invalid_scope", "The requested scope is invalid, unknown, or malformed."))?;
        if scopes.is_within(&app_scopes) {
            Ok(scopes)
        } else {
            Err(ApiError::oauth("invalid_scope", "The requested scope exceeds what the application registered."))
        }
    };
    let token = match body.grant_type.as_str() {
        "authorization_code" => {
            let code = body.code.as_deref().ok_or_else(|| ApiError::oauth("invalid_request", "The code parameter is missing."))?;
            let record = consume_code(&app, code).await?;
            // RFC 6749 §4.1.3: the same redirect URI as the authorization request, required.
            let redirect_ok = body.redirect_uri.as_deref() == Some(record.redirect_uri.as_str());
            let pkce_ok = match &record.challenge {
                Some((method, challenge)) => body.code_verifier.as_deref().is_some_and(|v| pkce_matches(method, challenge, v)),
                None => true,
            };
            if record.client_id != client.client_id || !redirect_ok || !pkce_ok || record.expires_at <= now_secs() {
                return Err(invalid_grant());
            }
            let scopes = Scopes::parse(&record.scopes).map_err(ApiError::internal)?;
            app.issue_token(&client, Some(record.account), &scopes).await?
        }
        "client_credentials" => app.issue_token(&client, None, &requested("read")?).await?,
        "password" => {
            let (Some(username), Some(password)) = (&body.username, &body.password) else {
                return Err(ApiError::oauth("invalid_request", "The username and password parameters are required."));
            };
            let account = check_login(&app, username, password).await?.ok_or_else(invalid_grant)?;
            app.issue_token(&client, Some(account), &requested(&client.scopes)?).await?
        }
        "refresh_token" => {
            let refresh = body.refresh_token.as_deref().ok_or_else(|| ApiError::oauth("invalid_request", "The refresh_token parameter is missing."))?;
            let key = keys::refresh_token(&secret_digest(refresh));
            let record: RefreshRecord = match app.store.get(&key).await? {
                Some(item) => model::decode(&item)?,
                None => return Err(invalid_grant()),
            };
            if record.client_id != client.client_id {
                return Err(invalid_grant());
            }
            // Rotate: the old pair dies with the new one's birth.
            app.revoke_token(record.jti).await?;
            let scopes = Scopes::parse(&record.scopes).map_err(ApiError::internal)?;
            app.issue_token(&client, record.account, &scopes).await?
        }
        "" => return Err(ApiError::oauth("invalid_request", "The grant_type parameter is missing.")),
        _ => return Err(ApiError::oauth("unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")),
    };
    let mut response = Json(token).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Body of `POST /oauth/revoke`.
#[derive(Deserialize)]
pub struct RevokeRequest {
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// `POST /oauth/revoke` (RFC 7009): 200 for a valid client and an unknown token, 403 for
/// another client's token.
pub async fn revoke(State(app): State<App>, headers: HeaderMap, Input(body): Input<RevokeRequest>) -> ApiResult<Json<wire::Empty>> {
    let creds = TokenRequest { client_id: body.client_id, client_secret: body.client_secret, ..TokenRequest::default() };
    let (client_id, client_secret) =
        client_credentials(&headers, &creds).ok_or_else(|| ApiError::oauth("invalid_client", "Client authentication is required."))?;
    let client = authenticate_client(&app, &client_id, &client_secret).await?;
    let token = body.token.ok_or_else(|| ApiError::oauth("invalid_request", "The token parameter is missing."))?;
    if let Ok(claims) = app.verifier.verify(&token, 0) {
        if claims.app != client.id {
            return Err(not_your_token());
        }
        app.revoke_token(claims.jti).await?;
    } else if let Some(item) = app.store.get(&keys::refresh_token(&secret_digest(&token))).await? {
        let record: RefreshRecord = model::decode(&item)?;
        if record.client_id != client.client_id {
            return Err(not_your_token());
        }
        app.revoke_token(record.jti).await?;
    }
    Ok(Json(wire::Empty {}))
}

/// RFC 7009 §2.1 and Mastodon: a client may revoke only the tokens issued to it.
pub(crate) fn not_your_token() -> ApiError {
    ApiError::OAuth { code: "unauthorized_client", description: "You are not authorized to revoke this token".into(), status: StatusCode::FORBIDDEN }
}

/// `GET /api/starling/v1/keys`: the public keys tokens are verified with.
pub async fn public_keys(State(app): State<App>) -> Json<KeySet> {
    Json(app.keys.clone())
}

/// `GET /api/starling/v1/revocations`: ids of revoked tokens that have not expired yet.
pub async fn revocations(State(app): State<App>) -> ApiResult<Json<wire::Revocations>> {
    let items = app.store.query(&Query::partition(keys::REVOKED, 100_000)).await?;
    let now = now_secs();
    let mut ids = Vec::new();
    for item in &items {
        let expires: Option<u64> = model::decode(item)?;
        if expires.is_none_or(|e| e > now) {
            if let Some(id) = Id::from_sort_key(&item.key.sk) {
                ids.push(id.to_string());
            }
        }
    }
    Ok(Json(wire::Revocations { revoked: ids }))
}

/// A standalone HTML page with strict security headers.
pub(crate) fn page(title: &str, body: &str) -> impl IntoResponse {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title} · Starling</title><style>\
         body{{font-family:system-ui,sans-serif;background:#f4f4f8;color:#1c1c28;display:flex;justify-content:center;padding:3rem 1rem;margin:0}}\
         main{{background:#fff;border-radius:12px;box-shadow:0 2px 12px #0002;padding:2rem;max-width:26rem;width:100%}}\
         h1{{font-size:1.4rem;margin-top:0}}label{{display:block;margin:.8rem 0;font-weight:600}}\
         input{{display:block;width:100%;box-sizing:border-box;padding:.6rem;margin-top:.3rem;border:1px solid #bbb;border-radius:6px;font-size:1rem}}\
         .actions{{display:flex;gap:.6rem;margin-top:1.2rem}}button{{flex:1;padding:.7rem;border:0;border-radius:6px;background:#5b4fe0;color:#fff;font-size:1rem;cursor:pointer}}\
         button.secondary{{background:#e4e4ec;color:#1c1c28}}.error{{color:#b00020;font-weight:600}}code.code{{font-size:1.1rem;word-break:break-all}}\
         </style></head><body><main><h1>{title}</h1>{body}</main></body></html>",
        title = escape(title)
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (headers, Html(html))
}
