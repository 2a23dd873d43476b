//! The [`SearchIndex`] contract. Every promise clears the index first and indexes the same
//! small corpus, so an index must not be shared with anything else while it runs.

use shared::id::Id;
use shared::wire::Visibility;

use crate::ports::{AccountDoc, AccountSearch, SearchChange, SearchIndex, StatusDoc, StatusSearch};

fn id(n: u64) -> Id {
    Id::from_u64(n)
}

const ALICE: u64 = 1;
const BOB: u64 = 2;
const CAROL: u64 = 3;
const DAVE: u64 = 4;

fn status(n: u64, author: u64, visibility: Visibility, mentions: &[u64], text: &str, tags: &[&str]) -> SearchChange {
    SearchChange::IndexStatus(StatusDoc {
        id: id(n),
        author: id(author),
        visibility,
        mentions: mentions.iter().copied().map(id).collect(),
        text: text.into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    })
}

fn search(text: &str, reader: u64, followed: &[u64]) -> StatusSearch {
    StatusSearch {
        text: text.into(),
        reader: id(reader),
        followed: followed.iter().copied().map(id).collect(),
        author: None,
        max_id: None,
        min_id: None,
        offset: 0,
        limit: 20,
    }
}

fn accounts(text: &str) -> AccountSearch {
    AccountSearch { text: text.into(), among: None, offset: 0, limit: 20 }
}

/// Clears the index and indexes the corpus every promise starts from.
async fn seed(index: &dyn SearchIndex) {
    index.clear().await.unwrap();
    index
        .apply(vec![
            status(100, ALICE, Visibility::Public, &[], "a long post that mentions gardening once among many other unrelated words here", &["garden"]),
            status(101, BOB, Visibility::Public, &[], "gardening gardening gardening", &["gardening", "Rust"]),
            status(102, ALICE, Visibility::Unlisted, &[], "the weather is lovely", &["garden"]),
            status(103, CAROL, Visibility::Private, &[DAVE], "secret plans for tomorrow", &["hidden"]),
            status(104, CAROL, Visibility::Direct, &[DAVE], "direct whisper about plans", &[]),
            SearchChange::IndexAccount(AccountDoc { id: id(ALICE), username: "alice".into(), display_name: "Alice Liddell".into() }),
            SearchChange::IndexAccount(AccountDoc { id: id(BOB), username: "bob".into(), display_name: "Bob the Builder".into() }),
            SearchChange::IndexAccount(AccountDoc { id: id(CAROL), username: "bobby_tables".into(), display_name: "Carol".into() }),
        ])
        .await
        .unwrap();
}

/// Every promise in turn.
pub async fn all(index: &dyn SearchIndex) {
    statuses_rank_by_relevance_and_every_word_must_match(index).await;
    typos_are_tolerated_from_four_characters(index).await;
    query_syntax_is_not_interpreted(index).await;
    readers_find_only_what_they_may_see(index).await;
    filters_and_paging_narrow_results(index).await;
    reindexing_replaces_and_deleting_removes(index).await;
    accounts_are_found_by_name_prefixes(index).await;
    hashtags_count_public_uses_exact_first(index).await;
    clearing_removes_everything(index).await;
}

pub async fn statuses_rank_by_relevance_and_every_word_must_match(index: &dyn SearchIndex) {
    seed(index).await;
    assert_eq!(index.statuses(&search("gardening", DAVE, &[])).await.unwrap(), vec![id(101), id(100)], "BM25: the dense short text ranks first");
    assert_eq!(index.statuses(&search("GARDENING weather", DAVE, &[])).await.unwrap(), Vec::<Id>::new(), "every word must match");
    assert!(index.statuses(&search("the", DAVE, &[])).await.unwrap().contains(&id(102)), "short words match exactly");
}

pub async fn typos_are_tolerated_from_four_characters(index: &dyn SearchIndex) {
    seed(index).await;
    assert_eq!(index.statuses(&search("wether", DAVE, &[])).await.unwrap(), vec![id(102)], "one typo is tolerated from four characters");
    assert_eq!(index.statuses(&search("gardneing", DAVE, &[])).await.unwrap().len(), 2, "a transposition counts as one edit");
    assert!(index.statuses(&search("teh", DAVE, &[])).await.unwrap().is_empty(), "short words must match exactly");
}

pub async fn query_syntax_is_not_interpreted(index: &dyn SearchIndex) {
    seed(index).await;
    for hostile in ["\"(:*", "title:x AND (", "*", "   ", "\u{0}\u{1}"] {
        assert!(index.statuses(&search(hostile, DAVE, &[])).await.unwrap().is_empty(), "query syntax is not interpreted: {hostile:?}");
    }
}

pub async fn readers_find_only_what_they_may_see(index: &dyn SearchIndex) {
    seed(index).await;
    assert_eq!(index.statuses(&search("plans", BOB, &[])).await.unwrap(), Vec::<Id>::new(), "a stranger sees neither private nor direct");
    assert_eq!(index.statuses(&search("plans", BOB, &[CAROL])).await.unwrap(), vec![id(103)], "a follower sees private, not direct");
    let mut mentioned = index.statuses(&search("plans", DAVE, &[])).await.unwrap();
    mentioned.sort();
    assert_eq!(mentioned, vec![id(103), id(104)], "the mentioned see both");
    assert_eq!(index.statuses(&search("whisper", CAROL, &[])).await.unwrap(), vec![id(104)], "the author sees their direct status");
}

pub async fn filters_and_paging_narrow_results(index: &dyn SearchIndex) {
    seed(index).await;
    let by_alice = StatusSearch { author: Some(id(ALICE)), ..search("gardening", DAVE, &[]) };
    assert_eq!(index.statuses(&by_alice).await.unwrap(), vec![id(100)], "author filter");
    let older = StatusSearch { max_id: Some(id(101)), ..search("gardening", DAVE, &[]) };
    assert_eq!(index.statuses(&older).await.unwrap(), vec![id(100)], "max_id is exclusive");
    let newer = StatusSearch { min_id: Some(id(100)), ..search("gardening", DAVE, &[]) };
    assert_eq!(index.statuses(&newer).await.unwrap(), vec![id(101)], "min_id is exclusive");
    let second = StatusSearch { offset: 1, limit: 1, ..search("gardening", DAVE, &[]) };
    assert_eq!(index.statuses(&second).await.unwrap(), vec![id(100)], "offset and limit page the ranking");
}

pub async fn reindexing_replaces_and_deleting_removes(index: &dyn SearchIndex) {
    seed(index).await;
    let edit = status(101, BOB, Visibility::Public, &[], "now about cooking", &["cooking"]);
    index.apply(vec![edit.clone(), edit]).await.unwrap();
    assert_eq!(index.statuses(&search("gardening", DAVE, &[])).await.unwrap(), vec![id(100)], "re-indexing replaces");
    assert_eq!(index.statuses(&search("cooking", DAVE, &[])).await.unwrap(), vec![id(101)]);
    index.apply(vec![SearchChange::DeleteStatus(id(100)), SearchChange::DeleteStatus(id(100))]).await.unwrap();
    assert!(index.statuses(&search("gardening", DAVE, &[])).await.unwrap().is_empty(), "deleting removes, twice is fine");
    index.apply(vec![SearchChange::DeleteAccount(id(BOB)), SearchChange::DeleteAccount(id(BOB))]).await.unwrap();
    assert_eq!(index.accounts(&accounts("bob")).await.unwrap(), vec![id(CAROL)], "a deleted account is not found");
}

pub async fn accounts_are_found_by_name_prefixes(index: &dyn SearchIndex) {
    seed(index).await;
    assert_eq!(index.accounts(&accounts("ali")).await.unwrap(), vec![id(ALICE)]);
    assert_eq!(index.accounts(&accounts("LIDD")).await.unwrap(), vec![id(ALICE)], "display-name words, case-insensitive");
    assert_eq!(index.accounts(&accounts("bob")).await.unwrap(), vec![id(BOB), id(CAROL)], "the exact username first");
    assert_eq!(index.accounts(&accounts("bob build")).await.unwrap(), vec![id(BOB)]);
    assert_eq!(index.accounts(&AccountSearch { among: Some(vec![id(CAROL)]), ..accounts("bob") }).await.unwrap(), vec![id(CAROL)]);
    assert!(index.accounts(&AccountSearch { among: Some(vec![]), ..accounts("bob") }).await.unwrap().is_empty());
    index.apply(vec![SearchChange::IndexAccount(AccountDoc { id: id(ALICE), username: "alice".into(), display_name: "Wonder".into() })]).await.unwrap();
    assert!(index.accounts(&accounts("lidd")).await.unwrap().is_empty(), "a renamed account is found by its new name only");
    assert_eq!(index.accounts(&accounts("wond")).await.unwrap(), vec![id(ALICE)]);
}

pub async fn hashtags_count_public_uses_exact_first(index: &dyn SearchIndex) {
    seed(index).await;
    index
        .apply(vec![
            status(101, BOB, Visibility::Public, &[], "now about cooking", &["cooking"]),
            SearchChange::DeleteStatus(id(100)),
            status(105, DAVE, Visibility::Public, &[], "more", &["gardening"]),
            status(106, DAVE, Visibility::Public, &[], "more", &["gardening"]),
        ])
        .await
        .unwrap();
    let tags = index.hashtags("garden", 0, 10).await.unwrap();
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["garden", "gardening"], "the exact match first: garden from 102 (100 is deleted)");
    assert_eq!((tags[0].uses, tags[1].uses), (1, 2), "uses count live statuses");
    assert!(index.hashtags("hidden", 0, 10).await.unwrap().is_empty(), "tags of private statuses are not listed");
    assert_eq!(index.hashtags("garden", 1, 10).await.unwrap().len(), 1, "offset skips");
}

pub async fn clearing_removes_everything(index: &dyn SearchIndex) {
    seed(index).await;
    index.clear().await.unwrap();
    assert!(index.statuses(&search("gardening", DAVE, &[])).await.unwrap().is_empty());
    assert!(index.accounts(&accounts("bob")).await.unwrap().is_empty());
    assert!(index.hashtags("garden", 0, 10).await.unwrap().is_empty());
}
