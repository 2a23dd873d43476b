//! Filter use cases over typed commands: validation as Mastodon answers it (422), the limits,
//! owner-only access (another account's filter, keyword or status is not found), and updates
//! that re-read and try again when a concurrent update of the same filter won.

use shared::id::Id;
use shared::wire::{FilterAction, FilterContext};

use super::writes::{self, FilterConflict};
use crate::App;
use crate::error::{ApiError, ApiResult};
use crate::model::{FilterKeywordRecord, FilterRecord, FilterStatusRecord};
use crate::policy::filters::{MAX_FILTERS, MAX_KEYWORDS, MAX_STATUSES, stored};
use crate::policy::visibility;
use crate::streaming;
use crate::transaction::RACE_RETRIES;

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 256;
/// Longest keyword, in characters.
pub const MAX_KEYWORD_CHARS: usize = 512;

/// Changes to a filter (creating one: what it starts with). Absent fields are left as they are.
#[derive(Debug, Clone, Default)]
pub struct FilterChanges {
    pub title: Option<String>,
    /// Context names as sent (checked here).
    pub context: Option<Vec<String>>,
    /// The action's name as sent (checked here).
    pub action: Option<String>,
    /// Seconds from now; `Some(None)`: never expires.
    pub expires_in: Option<Option<u64>>,
    pub keywords: Vec<KeywordChange>,
}

/// One of `keywords_attributes`: a new keyword (no `id`), or a change to (or, `destroy`, the
/// removal of) the keyword `id`.
#[derive(Debug, Clone, Default)]
pub struct KeywordChange {
    pub id: Option<String>,
    pub keyword: Option<String>,
    pub whole_word: Option<bool>,
    pub destroy: bool,
}

/// `account`'s filters, oldest first.
pub async fn list(app: &App, account: Id) -> ApiResult<Vec<FilterRecord>> {
    stored(app, account).await
}

/// One of `account`'s filters, or 404.
pub async fn find(app: &App, account: Id, filter: Id) -> ApiResult<FilterRecord> {
    stored(app, account).await?.into_iter().find(|f| f.id == filter).ok_or(ApiError::NotFound)
}

/// The filter holding keyword `keyword` and the keyword, or 404.
pub async fn find_keyword(app: &App, account: Id, keyword: Id) -> ApiResult<(FilterRecord, FilterKeywordRecord)> {
    stored(app, account).await?.into_iter().find_map(|f| f.keywords.iter().find(|k| k.id == keyword).cloned().map(|k| (f, k))).ok_or(ApiError::NotFound)
}

/// The filter holding status filter `entry` and the entry, or 404.
pub async fn find_status(app: &App, account: Id, entry: Id) -> ApiResult<(FilterRecord, FilterStatusRecord)> {
    stored(app, account).await?.into_iter().find_map(|f| f.statuses.iter().find(|s| s.id == entry).copied().map(|s| (f, s))).ok_or(ApiError::NotFound)
}

/// Creates a filter (at most [`MAX_FILTERS`]: a concurrent one past the limit steps back).
pub async fn create(app: &App, account: Id, changes: FilterChanges) -> ApiResult<FilterRecord> {
    let mut record = FilterRecord {
        id: app.next_id()?,
        version: 0,
        title: String::new(),
        context: Vec::new(),
        action: FilterAction::Warn,
        expires_at: None,
        keywords: Vec::new(),
        statuses: Vec::new(),
    };
    if changes.keywords.iter().any(|k| k.id.is_some()) {
        // Mastodon: naming an existing keyword while creating is not found.
        return Err(ApiError::NotFound);
    }
    apply(app, &mut record, changes)?;
    validate(&record)?;
    let too_many = || ApiError::invalid(format!("Validation failed: You can have at most {MAX_FILTERS} filters"));
    if stored(app, account).await?.len() >= MAX_FILTERS {
        return Err(too_many());
    }
    if writes::save(app, account, None, &record).await?.is_err() {
        return Err(ApiError::internal("a new filter id was taken"));
    }
    let after = stored(app, account).await?;
    if after.len() > MAX_FILTERS && after.iter().position(|f| f.id == record.id).is_some_and(|at| at >= MAX_FILTERS) {
        delete(app, account, record.id).await?;
        return Err(too_many());
    }
    streaming::relations_changed(app, account).await;
    Ok(record)
}

/// Updates filter `filter` of `account`.
pub async fn update(app: &App, account: Id, filter: Id, changes: FilterChanges) -> ApiResult<FilterRecord> {
    modify(app, account, |f| f.id == filter, |app, f| apply(app, f, changes.clone())).await.map(|(f, ())| f)
}

/// Deletes filter `filter` of `account` (404 when it has none by that id).
pub async fn delete(app: &App, account: Id, filter: Id) -> ApiResult<()> {
    for _ in 0..RACE_RETRIES {
        let current = find(app, account, filter).await?;
        if writes::delete(app, account, &current).await?.is_ok() {
            streaming::relations_changed(app, account).await;
            return Ok(());
        }
    }
    // Every try lost to a concurrent update: it is still there, changed.
    Err(ApiError::Conflict("The filter changed while it was being deleted; try again".into()))
}

/// Adds a keyword to filter `filter`.
pub async fn add_keyword(app: &App, account: Id, filter: Id, keyword: String, whole_word: bool) -> ApiResult<FilterKeywordRecord> {
    let change = KeywordChange { id: None, keyword: Some(keyword), whole_word: Some(whole_word), destroy: false };
    let (record, ()) = modify(app, account, |f| f.id == filter, |app, f| apply_keyword(app, f, change.clone())).await?;
    record.keywords.last().cloned().ok_or_else(|| ApiError::internal("a keyword added is missing"))
}

/// Changes keyword `keyword` (wherever it is among `account`'s filters).
pub async fn update_keyword(app: &App, account: Id, keyword: Id, text: Option<String>, whole_word: Option<bool>) -> ApiResult<FilterKeywordRecord> {
    let change = KeywordChange { id: Some(keyword.to_string()), keyword: text, whole_word, destroy: false };
    let (record, ()) = modify(app, account, |f| f.keywords.iter().any(|k| k.id == keyword), |app, f| apply_keyword(app, f, change.clone())).await?;
    record.keywords.into_iter().find(|k| k.id == keyword).ok_or(ApiError::NotFound)
}

/// Removes keyword `keyword` from its filter.
pub async fn delete_keyword(app: &App, account: Id, keyword: Id) -> ApiResult<()> {
    let change = KeywordChange { id: Some(keyword.to_string()), destroy: true, ..KeywordChange::default() };
    modify(app, account, |f| f.keywords.iter().any(|k| k.id == keyword), |app, f| apply_keyword(app, f, change.clone())).await.map(drop)
}

/// Adds status `status` (one `account` may see) to filter `filter`.
pub async fn add_status(app: &App, account: Id, filter: Id, status: Id) -> ApiResult<FilterStatusRecord> {
    let record = app.status_records(&[status]).await?.remove(&status).ok_or(ApiError::NotFound)?;
    if visibility::visible(app, Some(account), vec![record]).await?.is_empty() {
        return Err(ApiError::NotFound);
    }
    let (record, entry) = modify(
        app,
        account,
        |f| f.id == filter,
        |app, f| {
            if f.statuses.iter().any(|s| s.status == status) {
                return Err(ApiError::invalid("Validation failed: Status has already been taken"));
            }
            let entry = FilterStatusRecord { id: app.next_id()?, status };
            f.statuses.push(entry);
            Ok(entry)
        },
    )
    .await?;
    debug_assert!(record.statuses.contains(&entry));
    Ok(entry)
}

/// Removes status filter `entry` from its filter.
pub async fn delete_status(app: &App, account: Id, entry: Id) -> ApiResult<()> {
    modify(
        app,
        account,
        |f| f.statuses.iter().any(|s| s.id == entry),
        |_, f| {
            f.statuses.retain(|s| s.id != entry);
            Ok(())
        },
    )
    .await
    .map(drop)
}

// ---- v1 -----------------------------------------------------------------------------------------

/// A v1 filter as sent: one phrase with its filter's settings.
#[derive(Debug, Clone, Default)]
pub struct V1Filter {
    pub phrase: Option<String>,
    pub context: Option<Vec<String>>,
    pub irreversible: Option<bool>,
    pub whole_word: Option<bool>,
    pub expires_in: Option<Option<u64>>,
}

/// `POST /api/v1/filters`: a new filter titled by its phrase, holding it as its one keyword.
pub async fn create_v1(app: &App, account: Id, v1: V1Filter) -> ApiResult<(FilterRecord, FilterKeywordRecord)> {
    let phrase = v1.phrase.unwrap_or_default();
    let changes = FilterChanges {
        title: Some(phrase.clone()),
        context: Some(v1.context.unwrap_or_default()),
        action: Some(if v1.irreversible.unwrap_or(false) { "hide" } else { "warn" }.to_owned()),
        expires_in: v1.expires_in,
        keywords: vec![KeywordChange { id: None, keyword: Some(phrase), whole_word: Some(v1.whole_word.unwrap_or(false)), destroy: false }],
    };
    let record = create(app, account, changes).await?;
    let keyword = record.keywords.first().cloned().ok_or_else(|| ApiError::internal("a new filter has no keyword"))?;
    Ok((record, keyword))
}

/// `PUT /api/v1/filters/:id`: changes the keyword, and its filter's settings when the keyword
/// is the filter's only one (as Mastodon: 422 otherwise).
pub async fn update_v1(app: &App, account: Id, keyword: Id, v1: V1Filter) -> ApiResult<(FilterRecord, FilterKeywordRecord)> {
    let (record, ()) = modify(
        app,
        account,
        |f| f.keywords.iter().any(|k| k.id == keyword),
        |app, f| {
            let before = (f.context.clone(), f.action, f.expires_at);
            let changes = FilterChanges {
                context: v1.context.clone(),
                action: v1.irreversible.map(|hide| if hide { "hide" } else { "warn" }.to_owned()),
                expires_in: v1.expires_in,
                ..FilterChanges::default()
            };
            apply(app, f, changes)?;
            if (f.context.clone(), f.action, f.expires_at) != before && f.keywords.len() > 1 {
                return Err(ApiError::invalid(
                    "Validation failed: This filter has several keywords: change its context, action or expiry with the v2 filters API",
                ));
            }
            apply_keyword(app, f, KeywordChange { id: Some(keyword.to_string()), keyword: v1.phrase.clone(), whole_word: v1.whole_word, destroy: false })
        },
    )
    .await?;
    let keyword = record.keywords.iter().find(|k| k.id == keyword).cloned().ok_or(ApiError::NotFound)?;
    Ok((record, keyword))
}

// ---- rules --------------------------------------------------------------------------------------

/// Applies `change` to the filter `locate` picks among `account`'s (404 when none), validates
/// and saves it as the next version; re-reads and tries again when a concurrent update won.
async fn modify<T>(
    app: &App,
    account: Id,
    locate: impl Fn(&FilterRecord) -> bool,
    change: impl Fn(&App, &mut FilterRecord) -> ApiResult<T>,
) -> ApiResult<(FilterRecord, T)> {
    for _ in 0..RACE_RETRIES {
        let current = stored(app, account).await?.into_iter().find(|f| locate(f)).ok_or(ApiError::NotFound)?;
        let mut next = current.clone();
        let out = change(app, &mut next)?;
        validate(&next)?;
        next.version = current.version + 1;
        if writes::save(app, account, Some(&current), &next).await? == Err(FilterConflict::Changed) {
            continue;
        }
        // Open streams reload what they hide.
        streaming::relations_changed(app, account).await;
        return Ok((next, out));
    }
    Err(ApiError::Conflict("The filter changed while it was being updated; try again".into()))
}

/// Applies the changes to `record` (not yet validated as a whole).
fn apply(app: &App, record: &mut FilterRecord, changes: FilterChanges) -> ApiResult<()> {
    if let Some(title) = changes.title {
        record.title = title;
    }
    if let Some(names) = changes.context {
        let mut context = Vec::with_capacity(names.len());
        for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            let c = FilterContext::parse(name).ok_or_else(|| ApiError::invalid("Validation failed: Context none or invalid context supplied"))?;
            if !context.contains(&c) {
                context.push(c);
            }
        }
        record.context = context;
    }
    if let Some(action) = changes.action {
        record.action = FilterAction::parse(action.trim()).ok_or_else(|| ApiError::invalid(format!("'{action}' is not a valid filter_action")))?;
    }
    if let Some(expires_in) = changes.expires_in {
        record.expires_at = expires_in.map(|secs| crate::clock::now_ms().saturating_add(secs.saturating_mul(1000)));
    }
    for change in changes.keywords {
        apply_keyword(app, record, change)?;
    }
    Ok(())
}

/// Adds, changes or removes one keyword of `record`.
fn apply_keyword(app: &App, record: &mut FilterRecord, change: KeywordChange) -> ApiResult<()> {
    match change.id.as_deref().map(str::trim).filter(|id| !id.is_empty()) {
        None if change.destroy => Ok(()),
        None => {
            let keyword = change.keyword.unwrap_or_default();
            record.keywords.push(FilterKeywordRecord { id: app.next_id()?, keyword: keyword.trim().to_owned(), whole_word: change.whole_word.unwrap_or(true) });
            Ok(())
        }
        Some(id) => {
            let id: Id = id.parse().map_err(|_| ApiError::NotFound)?;
            let at = record.keywords.iter().position(|k| k.id == id).ok_or(ApiError::NotFound)?;
            if change.destroy {
                record.keywords.remove(at);
                return Ok(());
            }
            let keyword = &mut record.keywords[at];
            if let Some(text) = change.keyword {
                keyword.keyword = text.trim().to_owned();
            }
            if let Some(whole_word) = change.whole_word {
                keyword.whole_word = whole_word;
            }
            Ok(())
        }
    }
}

/// Mastodon's validations of a filter, with its messages.
fn validate(record: &FilterRecord) -> ApiResult<()> {
    if record.title.trim().is_empty() {
        return Err(ApiError::invalid("Validation failed: Title can't be blank"));
    }
    if record.title.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::invalid(format!("Validation failed: Title is too long (maximum is {MAX_TITLE_CHARS} characters)")));
    }
    if record.context.is_empty() {
        return Err(ApiError::invalid("Validation failed: Context can't be blank"));
    }
    if record.keywords.iter().any(|k| k.keyword.is_empty()) {
        return Err(ApiError::invalid("Validation failed: Keywords keyword can't be blank"));
    }
    if record.keywords.iter().any(|k| k.keyword.chars().count() > MAX_KEYWORD_CHARS) {
        return Err(ApiError::invalid(format!("Validation failed: Keywords keyword is too long (maximum is {MAX_KEYWORD_CHARS} characters)")));
    }
    if record.keywords.len() > MAX_KEYWORDS {
        return Err(ApiError::invalid(format!("Validation failed: A filter can have at most {MAX_KEYWORDS} keywords")));
    }
    if record.statuses.len() > MAX_STATUSES {
        return Err(ApiError::invalid(format!("Validation failed: A filter can have at most {MAX_STATUSES} statuses")));
    }
    Ok(())
}
