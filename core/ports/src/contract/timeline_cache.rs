//! The [`TimelineCache`] contract.

use shared::id::Id;
use shared::page::{PageRequest, Window};

use super::ns;
use crate::ports::{TimelineCache, TimelineEntry};

fn e(id: u64) -> TimelineEntry {
    TimelineEntry { id: Id::from_u64(id), reblog_of: None }
}

fn boost(id: u64, of: u64) -> TimelineEntry {
    TimelineEntry { id: Id::from_u64(id), reblog_of: Some(Id::from_u64(of)) }
}

fn ids(v: &[u64]) -> Vec<Id> {
    v.iter().copied().map(Id::from_u64).collect()
}

fn all_window() -> Window {
    PageRequest::new(None, None, None, Some(100), 100, 100).window()
}

/// A built timeline holding `entries`.
async fn built(cache: &dyn TimelineCache, entries: &[TimelineEntry]) -> String {
    let t = ns("home");
    cache.create(&t).await.unwrap();
    cache.insert(&t, entries, 10).await.unwrap();
    t
}

/// Every promise in turn.
pub async fn all(cache: &dyn TimelineCache) {
    unbuilt_timelines_do_not_exist_and_fanout_skips_them(cache).await;
    entries_come_newest_first_once_each(cache).await;
    a_timeline_holds_one_entry_per_original(cache).await;
    ranges_honour_the_window(cache).await;
    removed_entries_are_gone(cache).await;
    timelines_keep_the_newest_cap_entries(cache).await;
    fanout_reaches_existing_timelines_only(cache).await;
    dropped_timelines_are_gone(cache).await;
}

pub async fn unbuilt_timelines_do_not_exist_and_fanout_skips_them(cache: &dyn TimelineCache) {
    let t = ns("home");
    assert!(!cache.exists(&t).await.unwrap(), "an unknown timeline does not exist");
    assert_eq!(cache.fan_out(std::slice::from_ref(&t), e(1), 10).await.unwrap(), 0, "fanout skips timelines that were never built");
    assert!(!cache.exists(&t).await.unwrap(), "fanout does not create timelines");
    cache.create(&t).await.unwrap();
    assert!(cache.exists(&t).await.unwrap(), "a created timeline exists while empty");
    assert!(cache.range(&t, &all_window()).await.unwrap().is_empty());
}

pub async fn entries_come_newest_first_once_each(cache: &dyn TimelineCache) {
    let t = built(cache, &[]).await;
    let v0 = cache.version(&t).await.unwrap();
    cache.insert(&t, &[e(10), e(30), e(20)], 10).await.unwrap();
    assert_eq!(cache.range(&t, &all_window()).await.unwrap(), ids(&[30, 20, 10]), "entries come newest first");
    assert_ne!(cache.version(&t).await.unwrap(), v0, "the version moves when entries arrive");
    cache.insert(&t, &[e(20)], 10).await.unwrap();
    assert_eq!(cache.range(&t, &all_window()).await.unwrap(), ids(&[30, 20, 10]), "inserting twice keeps one entry");
}

pub async fn a_timeline_holds_one_entry_per_original(cache: &dyn TimelineCache) {
    let t = built(cache, &[e(10), e(20), e(30)]).await;
    cache.insert(&t, &[boost(40, 20)], 10).await.unwrap();
    assert_eq!(cache.range(&t, &all_window()).await.unwrap(), ids(&[30, 20, 10]), "a boost of a status already there is not added");
    cache.insert(&t, &[boost(50, 99)], 10).await.unwrap();
    cache.insert(&t, &[boost(60, 99)], 10).await.unwrap();
    assert_eq!(cache.range(&t, &all_window()).await.unwrap(), ids(&[50, 30, 20, 10]), "a second boost of the same status is not added");
    cache.insert(&t, &[e(99)], 10).await.unwrap();
    assert_eq!(cache.range(&t, &all_window()).await.unwrap(), ids(&[50, 30, 20, 10]), "an original already shown by a boost is not added");
}

pub async fn ranges_honour_the_window(cache: &dyn TimelineCache) {
    let t = built(cache, &[e(10), e(20), e(30), boost(50, 99)]).await;
    let page = PageRequest::new(Some(Id::from_u64(30)), None, None, Some(2), 20, 40).window();
    assert_eq!(cache.range(&t, &page).await.unwrap(), ids(&[20, 10]), "range honours max_id and limit");
    let min = PageRequest::new(None, None, Some(Id::from_u64(10)), Some(2), 20, 40).window();
    assert_eq!(cache.range(&t, &min).await.unwrap(), ids(&[30, 20]), "range honours min_id");
}

pub async fn removed_entries_are_gone(cache: &dyn TimelineCache) {
    let t = built(cache, &[e(10), e(20), e(30), boost(50, 99)]).await;
    let before = cache.version(&t).await.unwrap();
    cache.remove(&t, &ids(&[30, 50])).await.unwrap();
    assert_eq!(cache.range(&t, &all_window()).await.unwrap(), ids(&[20, 10]), "removed entries are gone");
    assert_ne!(cache.version(&t).await.unwrap(), before, "the version moves when entries leave");
    cache.insert(&t, &[boost(70, 99)], 10).await.unwrap();
    assert_eq!(cache.range(&t, &all_window()).await.unwrap(), ids(&[70, 20, 10]), "removing a boost frees its original for another boost");
}

pub async fn timelines_keep_the_newest_cap_entries(cache: &dyn TimelineCache) {
    let capped = built(cache, &[]).await;
    let many: Vec<TimelineEntry> = (1..=25).map(e).collect();
    cache.insert(&capped, &many, 10).await.unwrap();
    assert_eq!(
        cache.range(&capped, &all_window()).await.unwrap(),
        (16..=25).rev().map(Id::from_u64).collect::<Vec<_>>(),
        "timelines keep only the newest cap entries"
    );
}

pub async fn fanout_reaches_existing_timelines_only(cache: &dyn TimelineCache) {
    let t = built(cache, &[e(10)]).await;
    let other = built(cache, &[]).await;
    let absent = ns("absent");
    let delivered = cache.fan_out(&[t.clone(), other.clone(), absent.clone()], e(80), 10).await.unwrap();
    assert_eq!(delivered, 2, "fanout reports deliveries to existing timelines only");
    assert_eq!(cache.range(&other, &all_window()).await.unwrap(), ids(&[80]));
    assert_eq!(cache.range(&t, &all_window()).await.unwrap(), ids(&[80, 10]));
    cache.remove_from_all(&[t.clone(), other.clone()], &ids(&[80])).await.unwrap();
    assert!(cache.range(&other, &all_window()).await.unwrap().is_empty(), "remove_from_all removes everywhere");
    assert_eq!(cache.range(&t, &all_window()).await.unwrap(), ids(&[10]), "remove_from_all removes only what it names");
    assert!(!cache.exists(&absent).await.unwrap(), "fanout does not create timelines");
}

pub async fn dropped_timelines_are_gone(cache: &dyn TimelineCache) {
    let t = built(cache, &[e(10), e(20)]).await;
    cache.drop_timeline(&t).await.unwrap();
    assert!(!cache.exists(&t).await.unwrap(), "a dropped timeline no longer exists");
    assert!(cache.range(&t, &all_window()).await.unwrap().is_empty(), "a dropped timeline is empty");
}
