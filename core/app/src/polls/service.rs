//! The poll use cases over typed commands: validating a new (or edited) poll, voting, reading
//! a poll as a viewer sees it, and listing a round's voters.

use std::collections::HashMap;

use shared::id::Id;
use shared::wire;

use super::writes::{self, VoteConflict};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, PollRecord, StatusRecord, VoteRecord};
use crate::ports::{Key, Query};
use crate::{App, keys, now_ms};

/// A poll as a client asks for it (`poll[options][]`, `poll[expires_in]`, …), not validated.
#[derive(Debug, Clone, Default)]
pub struct PollInput {
    pub options: Vec<String>,
    /// Seconds from now.
    pub expires_in: Option<u64>,
    pub multiple: bool,
    pub hide_totals: bool,
}

/// Vote in a poll.
pub struct Vote {
    pub voter: Id,
    /// The poll (its status's id).
    pub poll: Id,
    /// Option indexes as given.
    pub choices: Vec<String>,
}

/// Items read per page of a round's votes.
const PAGE: usize = 500;

fn invalid(message: &str) -> ApiError {
    ApiError::invalid(format!("Validation failed: {message}"))
}

/// Validates a new poll against the instance's limits (`[polls]`), for a status with
/// attachments or not, as of `now_ms`: round 0.
pub fn validate(app: &App, input: PollInput, has_media: bool, now_ms: u64) -> ApiResult<PollRecord> {
    let limits = &app.config.polls;
    if has_media {
        return Err(invalid("A status with a poll cannot have media attachments"));
    }
    let options: Vec<String> = input.options.iter().map(|o| o.trim().to_owned()).collect();
    if options.len() < 2 {
        return Err(invalid("Poll options must have more than one item"));
    }
    if options.len() > limits.max_options {
        return Err(invalid(&format!("Poll options can't contain more than {} items", limits.max_options)));
    }
    if options.iter().any(String::is_empty) {
        return Err(invalid("Poll options can't be blank"));
    }
    let max_chars = limits.max_characters_per_option;
    if options.iter().any(|o| o.chars().count() > max_chars) {
        return Err(invalid(&format!("Poll options cannot be longer than {max_chars} characters each")));
    }
    if options.iter().enumerate().any(|(i, o)| options[..i].contains(o)) {
        return Err(invalid("Poll options must contain unique items"));
    }
    let Some(expires_in) = input.expires_in else { return Err(invalid("Poll expires in can't be blank")) };
    if expires_in < limits.min_expiration {
        return Err(invalid("Poll expiration is too soon"));
    }
    if expires_in > limits.max_expiration {
        return Err(invalid("Poll expiration is too far into the future"));
    }
    Ok(PollRecord { options, expires_at: now_ms + expires_in * 1000, multiple: input.multiple, hide_totals: input.hide_totals, round: 0 })
}

/// The poll a status has after an edit to `after` (a poll validated as new, or none): as
/// Mastodon, changed options (or `multiple`) reset the votes (a new round); the same keep them.
pub fn edited(before: Option<&PollRecord>, after: Option<PollRecord>) -> Option<PollRecord> {
    let mut after = after?;
    if let Some(before) = before {
        let same = before.options == after.options && before.multiple == after.multiple;
        after.round = if same { before.round } else { before.round + 1 };
    }
    Some(after)
}

/// Records a vote; returns the poll's status. Once per account and round, not in one's own
/// poll, not after the end, one choice unless the poll is multiple-choice, indexes in range.
pub async fn vote(app: &App, cmd: Vote) -> ApiResult<StatusRecord> {
    let record = app.visible_record(Some(cmd.voter), cmd.poll).await?;
    let Some(poll) = &record.poll else { return Err(ApiError::NotFound) };
    if record.account_id == cmd.voter {
        return Err(invalid("You cannot vote on your own poll"));
    }
    if poll.expired(now_ms()) {
        return Err(invalid("The poll has already ended"));
    }
    let mut choices = Vec::with_capacity(cmd.choices.len());
    for raw in &cmd.choices {
        match raw.trim().parse::<usize>() {
            Ok(i) if i < poll.options.len() => choices.push(i),
            _ => return Err(invalid("That option does not exist")),
        }
    }
    choices.sort_unstable();
    choices.dedup();
    if choices.is_empty() {
        return Err(invalid("Choices can't be blank"));
    }
    if choices.len() > 1 && !poll.multiple {
        return Err(invalid("This poll allows only one choice"));
    }
    let vote = VoteRecord { account: cmd.voter, choices };
    match writes::vote(app, record.id, poll.round, &vote).await? {
        Ok(()) => Ok(record),
        Err(VoteConflict::AlreadyVoted) => Err(invalid("You have already voted on this poll")),
    }
}

/// The poll of status `id` as `viewer` sees it; 404 when the status is not visible to them
/// or has no poll.
pub async fn show(app: &App, viewer: Option<Id>, id: Id) -> ApiResult<wire::Poll> {
    let record = app.visible_record(viewer, id).await?;
    entities(app, viewer, &[&record]).await?.remove(&id).ok_or(ApiError::NotFound)
}

/// The poll entities of those of `records` that have one, keyed by status id, as `viewer`
/// sees them (records already checked for visibility): one batched read.
pub async fn entities(app: &App, viewer: Option<Id>, records: &[&StatusRecord]) -> ApiResult<HashMap<Id, wire::Poll>> {
    let polls: Vec<(&StatusRecord, &PollRecord)> = records.iter().filter_map(|r| r.poll.as_ref().map(|p| (*r, p))).collect();
    if polls.is_empty() {
        return Ok(HashMap::new());
    }
    let mut keys: Vec<Key> = Vec::new();
    for (r, p) in &polls {
        keys.extend((0..p.options.len()).map(|i| keys::poll_option_votes(r.id, p.round, i)));
        keys.push(keys::poll_voters(r.id, p.round));
        keys.push(keys::poll_vote(r.id, p.round, viewer.unwrap_or(Id::MIN)));
    }
    let items = app.store.get_many(&keys).await?;
    let mut items = items.into_iter();
    let now = now_ms();
    let mut out = HashMap::with_capacity(polls.len());
    for (r, p) in polls {
        let counts: Vec<u64> = items.by_ref().take(p.options.len()).map(|i| model::count(i.as_ref())).collect();
        let voters = model::count(items.next().flatten().as_ref());
        let own: Option<VoteRecord> = items.next().flatten().map(|i| model::decode(&i)).transpose()?;
        let expired = p.expired(now);
        let is_author = viewer == Some(r.account_id);
        // As Mastodon: hidden totals show to the author, and to everyone once the poll ended.
        let shown = !p.hide_totals || expired || is_author;
        let entity = wire::Poll {
            id: r.id,
            expires_at: Some(wire::timestamp(p.expires_at)),
            expired,
            multiple: p.multiple,
            votes_count: counts.iter().sum(),
            voters_count: Some(voters),
            options: p.options.iter().zip(&counts).map(|(title, n)| wire::PollOption { title: title.clone(), votes_count: shown.then_some(*n) }).collect(),
            emojis: Vec::new(),
            voted: viewer.map(|_| is_author || own.is_some()),
            own_votes: viewer.map(|_| own.map(|v| v.choices).unwrap_or_default()),
        };
        out.insert(r.id, entity);
    }
    Ok(out)
}

/// Every account that voted in round `round` of the poll of `status`.
pub async fn voters(app: &App, status: Id, round: u32) -> ApiResult<Vec<Id>> {
    let mut out = Vec::new();
    let mut query = Query { prefix: Some(keys::poll_votes_prefix(round)), ..Query::partition(keys::status_partition(status), PAGE) };
    loop {
        let page = app.store.query(&query).await?;
        for item in &page {
            out.push(model::decode::<VoteRecord>(item)?.account);
        }
        match page.last() {
            Some(last) if page.len() == PAGE => query.after = Some(last.key.sk.clone()),
            _ => return Ok(out),
        }
    }
}
