//! What a celebrity's notifications read is kept in process (`core_app::hot`): its own flags on
//! its statuses, which each favourite's notification renders, follow its own changes at once.

use core_app::config::TimelineConfig;
use core_app::keys::{self, Interaction};
use core_app::model::Ref;
use core_app::ports::Condition;
use serde_json::{Value, json};
use shared::id::Id;

use crate::{TestApp, User, id};

fn account(user: &User) -> Id {
    user.id.parse().unwrap()
}

/// Another process bookmarks `status` for `user` (a write this process does not see).
async fn bookmark_elsewhere(t: &TestApp, user: &User, status: Id) {
    let put = core_app::model::put(keys::interaction(status, Interaction::Bookmark, account(user)), &Ref { id: status }, Condition::None).unwrap();
    t.app.store().transact(vec![put], vec![]).await.unwrap();
}

async fn favourite_notifications(t: &TestApp, user: &User) -> usize {
    t.get("/api/v1/notifications?types[]=favourite", Some(&user.token)).await.expect(200).as_array().unwrap().len()
}

#[tokio::test]
async fn a_celebritys_own_flags_are_kept_for_its_notifications_and_follow_its_own_changes() {
    let t = TestApp::spawn_with(|s| s.timelines = Some(TimelineConfig { celebrity_threshold: 2, hot_ttl_ms: 60_000, ..TimelineConfig::default() })).await;
    let [star, fan1, fan2, plain] = t.register_all(["star", "fan1", "fan2", "plain"]).await;
    t.follow(&fan1, &star).await;
    t.follow(&fan2, &star).await;
    t.settle().await;
    let post = t.post_status(&star, json!({"status": "viral"})).await;
    let sid = id(&post);
    let status: Id = sid.parse().unwrap();
    let seen = |user: &User| {
        let (path, token) = (format!("/api/v1/statuses/{sid}"), user.token.clone());
        let t = &t;
        async move {
            let s: Value = t.get(&path, Some(&token)).await.expect(200);
            (s["favourited"].as_bool().unwrap(), s["bookmarked"].as_bool().unwrap(), s["muted"].as_bool().unwrap())
        }
    };
    // A fan's favourite notifies the star, rendering the post for it: its flags are kept.
    t.post(&format!("/api/v1/statuses/{sid}/favourite"), Some(&fan1.token), json!({})).await.expect(200);
    t.settle().await;
    assert_eq!(favourite_notifications(&t, &star).await, 1);
    bookmark_elsewhere(&t, &star, status).await;
    assert_eq!(seen(&star).await, (false, false, false), "the celebrity's kept flags are trusted");
    // An ordinary account's are read.
    bookmark_elsewhere(&t, &plain, status).await;
    assert_eq!(seen(&plain).await, (false, true, false));
    // Its own favourite here forgets them: now read, with the other process's bookmark.
    t.post(&format!("/api/v1/statuses/{sid}/favourite"), Some(&star.token), json!({})).await.expect(200);
    assert_eq!(seen(&star).await, (true, true, false));
    // Its thread mute forgets every kept flag; the next fan's favourite notifies nobody.
    t.post(&format!("/api/v1/statuses/{sid}/mute"), Some(&star.token), json!({})).await.expect(200);
    assert_eq!(seen(&star).await, (true, true, true));
    t.post(&format!("/api/v1/statuses/{sid}/favourite"), Some(&fan2.token), json!({})).await.expect(200);
    t.settle().await;
    assert_eq!(favourite_notifications(&t, &star).await, 1, "a muted thread notifies nothing");
    // Unmuted: the kept flags are forgotten again, and a favourite notifies once more.
    t.post(&format!("/api/v1/statuses/{sid}/unmute"), Some(&star.token), json!({})).await.expect(200);
    t.post(&format!("/api/v1/statuses/{sid}/unfavourite"), Some(&fan2.token), json!({})).await.expect(200);
    t.post(&format!("/api/v1/statuses/{sid}/favourite"), Some(&fan2.token), json!({})).await.expect(200);
    t.settle().await;
    assert_eq!(favourite_notifications(&t, &star).await, 2);
}
