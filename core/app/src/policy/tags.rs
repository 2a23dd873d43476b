//! Who gets a post in their home because they follow one of its hashtags (Mastodon's
//! `deliver_to_hashtag_followers` and `filter_from_tags?`).

use std::collections::HashSet;

use shared::id::Id;

use super::feed::{self, FeedItem};
use crate::App;
use crate::error::ApiResult;
use crate::keys;
use crate::model::{self, MuteRecord, Ref};
use crate::ports::Query;

/// Tag followers read per page while finding a fanout's recipients.
const FOLLOWER_PAGE: usize = 1000;

/// Whether `item` reaches the followers of its hashtags at all: public originals (what the
/// tag's feed lists, which anyone may see), not by a silenced author.
pub fn reaches_tag_followers(item: &FeedItem<'_>, author_silenced: bool) -> bool {
    feed::in_public(item) && !author_silenced
}

/// Whether a follower of one of `item`'s tags gets it through the tag, given their relations
/// to its author: never their own post, nor an author they follow (followers get a post, or
/// not, by the home rules: replies, exclusive lists, pulled celebrities), nor across a block
/// either way, nor from an author they mute.
pub fn tag_follower_gets(reader: Id, author: Id, follows: bool, blocked: bool, muted: bool) -> bool {
    reader != author && !follows && !blocked && !muted
}

/// The accounts `item` (carrying `tags`) reaches through their followed tags, less `skip`
/// (those it reaches already): each tag's follower index read a page at a time, with one
/// batched read of every page's relations to the author; each account at most once, however
/// many of the tags it follows.
pub async fn tag_recipients(app: &App, item: &FeedItem<'_>, tags: &[String], skip: &HashSet<Id>) -> ApiResult<Vec<Id>> {
    if tags.is_empty() || !reaches_tag_followers(item, false) {
        return Ok(Vec::new());
    }
    // The author's moderation is read once some tag has a follower.
    let mut silenced: Option<bool> = None;
    let author = item.author;
    let mut seen: HashSet<Id> = HashSet::new();
    let mut out = Vec::new();
    let mut names: Vec<&String> = tags.iter().collect();
    names.sort_unstable();
    names.dedup();
    let now = crate::clock::now_ms();
    for tag in names {
        let mut query = Query::partition(keys::tag_followers_partition(tag), FOLLOWER_PAGE);
        loop {
            let page = app.store.query(&query).await?;
            let Some(last) = page.last() else { break };
            query.after = Some(last.key.sk.clone());
            let mut candidates = Vec::with_capacity(page.len());
            for item in &page {
                let reader = model::decode::<Ref>(item)?.id;
                if !skip.contains(&reader) && seen.insert(reader) {
                    candidates.push(reader);
                }
            }
            if !candidates.is_empty() && silenced.is_none() {
                let is_silenced = app.moderation(author).await?.silenced_at.is_some();
                silenced = Some(is_silenced);
                if !reaches_tag_followers(item, is_silenced) {
                    return Ok(Vec::new());
                }
            }
            if !candidates.is_empty() {
                let keys: Vec<_> = candidates
                    .iter()
                    .flat_map(|r| [keys::follow_edge(*r, author), keys::block_edge(*r, author), keys::blocked_by(*r, author), keys::mute_edge(*r, author)])
                    .collect();
                let relations = app.store.get_many(&keys).await?;
                for (reader, chunk) in candidates.into_iter().zip(relations.chunks(4)) {
                    let [follow, block, blocked_by, mute] = chunk else { continue };
                    let muted = match mute {
                        Some(item) => model::decode::<MuteRecord>(item)?.active(now),
                        None => false,
                    };
                    if tag_follower_gets(reader, author, follow.is_some(), block.is_some() || blocked_by.is_some(), muted) {
                        out.push(reader);
                    }
                }
            }
            if page.len() < FOLLOWER_PAGE {
                break;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use shared::wire::Visibility;

    use super::*;

    fn id(n: u64) -> Id {
        Id::from_u64(n)
    }

    #[test]
    fn only_public_originals_of_unsilenced_authors_reach_tag_followers() {
        let post = FeedItem { author: id(1), visibility: Visibility::Public, reblog_of: None, in_reply_to_account: None, mentions: &[] };
        assert!(reaches_tag_followers(&post, false));
        assert!(!reaches_tag_followers(&post, true), "silenced");
        assert!(!reaches_tag_followers(&FeedItem { visibility: Visibility::Unlisted, ..post }, false));
        assert!(!reaches_tag_followers(&FeedItem { visibility: Visibility::Private, ..post }, false));
        assert!(!reaches_tag_followers(&FeedItem { reblog_of: Some(id(9)), ..post }, false), "boosts");
    }

    #[test]
    fn a_tag_follower_gets_a_post_unless_related_to_its_author() {
        assert!(tag_follower_gets(id(2), id(1), false, false, false));
        assert!(!tag_follower_gets(id(1), id(1), false, false, false), "own post");
        assert!(!tag_follower_gets(id(2), id(1), true, false, false), "a follower gets it as a follower");
        assert!(!tag_follower_gets(id(2), id(1), false, true, false), "blocks");
        assert!(!tag_follower_gets(id(2), id(1), false, false, true), "mutes");
    }
}
