//! The public pages' endpoints: thin, each reading its content from [`super::service`] and
//! handing it to [`super::html`].

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use shared::id::Id;
use shared::text::escape_html as esc;

use super::html::{self, Meta};
use super::service::{self, Missing};
use crate::App;
use crate::config::Registrations;
use crate::error::ApiResult;

/// Query of the paged pages.
#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    max_id: Option<String>,
}

impl PageQuery {
    fn max_id(&self) -> Option<Id> {
        self.max_id.as_deref().and_then(|raw| raw.parse().ok())
    }
}

/// `GET /`: what this instance is, its rules, how to join, recent public posts.
pub async fn landing(State(app): State<App>) -> ApiResult<Response> {
    let instance = &app.config.instance;
    let recent = service::recent_public(&app).await?;
    let mut body = String::new();
    let _ = write!(body, "<section class=\"card\"><h1>{}</h1><p>{}</p>", esc(&instance.title), esc(&instance.description));
    let joining = match instance.registrations {
        Registrations::Open => "Anyone can sign up.",
        Registrations::Approval => "Anyone can ask to sign up; a moderator approves each new account.",
        Registrations::Closed => "Sign-ups are closed.",
    };
    let _ = write!(body, "<p>{joining} Use any Mastodon app with the address <strong>{}</strong> to sign up or log in.</p></section>", esc(&instance.base_url));
    if !instance.rules.is_empty() {
        body.push_str("<section class=\"card\" aria-labelledby=\"rules\"><h2 id=\"rules\">Rules</h2><ol>");
        for rule in &instance.rules {
            let _ = write!(body, "<li>{}", esc(&rule.text));
            if !rule.hint.is_empty() {
                let _ = write!(body, "<br><span class=\"muted\">{}</span>", esc(&rule.hint));
            }
            body.push_str("</li>");
        }
        body.push_str("</ol></section>");
    }
    body.push_str("<h2>Recent posts</h2>");
    html::statuses(&mut body, &recent, "Nothing posted publicly yet.");
    let meta = Meta {
        title: instance.title.clone(),
        description: instance.description.clone(),
        kind: "website",
        url: format!("{}/", instance.base_url),
        image: None,
        large_image: false,
        alternate: Some(format!("{}/api/v2/instance", instance.base_url)),
    };
    Ok(html::page(StatusCode::OK, &instance.title, &meta, &body))
}

/// `GET /@:username`: the profile, pinned posts first, then posts page by page.
pub async fn profile(State(app): State<App>, Path(handle): Path<String>, Query(q): Query<PageQuery>) -> ApiResult<Response> {
    let base = app.config.instance.base_url.clone();
    let profile = match service::profile(&app, &handle, q.max_id()).await? {
        Ok(profile) => profile,
        Err(missing) => return Ok(not_found(&app, missing)),
    };
    let a = &profile.account;
    let name = html::display_name(a);
    let mut body = String::new();
    let _ = write!(
        body,
        "<section class=\"card\"><img class=\"banner\" src=\"{header}\" alt=\"\"><img class=\"avatar\" src=\"{avatar}\" alt=\"{name}'s avatar\">\
         <h1>{name}</h1><p class=\"muted\">@{acct}</p>{note}",
        header = esc(&a.header_static),
        avatar = esc(&a.avatar_static),
        name = esc(name),
        acct = esc(&a.acct),
        note = a.note,
    );
    if !a.fields.is_empty() {
        body.push_str("<dl class=\"fields\">");
        for f in &a.fields {
            // Field names and values are escaped when rendered (render.rs).
            let _ = write!(body, "<dt>{}</dt><dd>{}</dd>", f.name, f.value);
        }
        body.push_str("</dl>");
    }
    let _ = write!(body, "<p class=\"muted\">{} posts · {} following · {} followers</p></section>", a.statuses_count, a.following_count, a.followers_count);
    if !profile.featured_tags.is_empty() {
        body.push_str("<h2>Featured hashtags</h2><ul class=\"featured-tags\">");
        for tag in &profile.featured_tags {
            let _ = write!(
                body,
                "<li><a href=\"/tags/{name}\">#{name}</a> <span class=\"muted\">{count} posts</span></li>",
                name = esc(&tag.name),
                count = esc(&tag.statuses_count)
            );
        }
        body.push_str("</ul>");
    }
    if !profile.pinned.is_empty() {
        body.push_str("<h2>Pinned</h2>");
        html::statuses(&mut body, &profile.pinned, "");
    }
    body.push_str("<h2>Posts</h2>");
    html::statuses(&mut body, &profile.statuses, "No public posts.");
    html::older(&mut body, &format!("/@{}", a.username), profile.older);
    let meta = Meta {
        title: format!("{name} (@{})", a.acct),
        description: html::plain(&a.note),
        kind: "profile",
        url: a.url.clone(),
        image: Some(a.avatar_static.clone()),
        large_image: false,
        alternate: Some(format!("{base}/api/v1/accounts/{}", a.id)),
    };
    Ok(html::page(StatusCode::OK, &app.config.instance.title, &meta, &body))
}

/// `GET /@:username/:id`: a status (its `url`) with the visible parts of its thread.
pub async fn status(State(app): State<App>, Path((handle, id)): Path<(String, String)>) -> ApiResult<Response> {
    let Ok(id) = id.parse::<Id>() else { return Ok(not_found(&app, Missing::NotFound)) };
    let thread = match service::thread(&app, &handle, id).await? {
        Ok(thread) => thread,
        Err(missing) => return Ok(not_found(&app, missing)),
    };
    let s = &thread.status;
    let mut body = String::new();
    for ancestor in &thread.ancestors {
        html::status(&mut body, ancestor, false);
    }
    html::status(&mut body, s, true);
    if !thread.descendants.is_empty() {
        body.push_str("<h2>Replies</h2>");
        html::statuses(&mut body, &thread.descendants, "");
    }
    let picture = s.media_attachments.iter().find(|m| m.kind == "image").and_then(|m| m.preview_url.clone().or(m.url.clone()));
    let description = if s.spoiler_text.is_empty() { html::plain(&s.content) } else { format!("Content warning: {}", s.spoiler_text) };
    let meta = Meta {
        title: format!("{} on {}", html::display_name(&s.account), app.config.instance.title),
        description,
        kind: "article",
        url: s.url.clone().unwrap_or_default(),
        large_image: picture.is_some() && !s.sensitive,
        image: if s.sensitive { None } else { picture }.or(Some(s.account.avatar_static.clone())),
        alternate: Some(format!("{}/api/v1/statuses/{}", app.config.instance.base_url, s.id)),
    };
    Ok(html::page(StatusCode::OK, &app.config.instance.title, &meta, &body))
}

/// `GET /tags/:tag`: public posts with the tag, page by page.
pub async fn tag(State(app): State<App>, Path(tag): Path<String>, Query(q): Query<PageQuery>) -> ApiResult<Response> {
    let (name, statuses, older) = match service::tagged(&app, &tag, q.max_id()).await? {
        Ok(found) => found,
        Err(missing) => return Ok(not_found(&app, missing)),
    };
    let mut body = String::new();
    let _ = write!(body, "<h1>#{}</h1>", esc(&name));
    html::statuses(&mut body, &statuses, "No public posts with this tag yet.");
    html::older(&mut body, &format!("/tags/{name}"), older);
    let base = &app.config.instance.base_url;
    let meta = Meta {
        title: format!("#{name} on {}", app.config.instance.title),
        description: format!("Public posts tagged #{name}"),
        kind: "website",
        url: format!("{base}/tags/{name}"),
        image: None,
        large_image: false,
        alternate: Some(format!("{base}/api/v1/tags/{name}")),
    };
    Ok(html::page(StatusCode::OK, &app.config.instance.title, &meta, &body))
}

/// The HTML page of a missing (404) or taken-down (410) page.
pub fn not_found(app: &App, missing: Missing) -> Response {
    let (status, title, text) = match missing {
        Missing::NotFound => (StatusCode::NOT_FOUND, "Not found", "This page does not exist, or is not public."),
        Missing::Gone => (StatusCode::GONE, "Gone", "This account was suspended; its page is no longer available."),
    };
    let base = &app.config.instance.base_url;
    let meta =
        Meta { title: title.into(), description: text.into(), kind: "website", url: format!("{base}/"), image: None, large_image: false, alternate: None };
    let body = format!("<section class=\"card\"><h1>{title}</h1><p>{text}</p><p><a href=\"/\">Home</a></p></section>");
    html::page(status, &app.config.instance.title, &meta, &body)
}
