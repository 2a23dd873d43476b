//! Data migrations (`core_app::migrations`): items written under the old key layout read as if
//! written under the new one once migrated, and a migration run again changes nothing.

use core_app::keys::{self, Interaction};
use core_app::migrations;
use core_app::ports::{Condition, Item, Key, Write};
use serde_json::json;
use shared::id::Id;

use crate::{TestApp, User, id};

fn account(user: &User) -> Id {
    user.id.parse().unwrap()
}

/// Puts the item at `from` back at `to` (or deletes it when `to` is `None`), as an older release
/// had written it.
async fn rewrite(t: &TestApp, from: Key, to: Option<Key>) {
    let item = t.app.store().get(&from).await.unwrap().unwrap_or_else(|| panic!("{from:?} written"));
    let mut writes = vec![Write::Delete { key: from, condition: Condition::Exists }];
    if let Some(to) = to {
        writes.push(Write::Put { item: Item { key: to, value: item.value }, condition: Condition::NotExists });
    }
    t.app.store().transact(writes, vec![]).await.unwrap();
}

#[tokio::test]
async fn interactions_and_relation_mirrors_written_by_an_older_release_read_the_same_once_migrated() {
    let t = TestApp::spawn().await;
    let [author, fan, other] = t.register_all(["author", "fan", "other"]).await;
    let post = t.post_status(&author, json!({"status": "old layout"})).await;
    let sid = id(&post);
    let status: Id = sid.parse().unwrap();
    t.post(&format!("/api/v1/accounts/{}/mute", fan.id), Some(&author.token), json!({"notifications": true})).await.expect(200);
    for action in ["favourite", "bookmark", "reblog"] {
        t.post(&format!("/api/v1/statuses/{sid}/{action}"), Some(&fan.token), json!({})).await.expect(200);
    }
    t.follow(&fan, &author).await;
    t.follow(&author, &fan).await;
    t.settle().await;
    let (fan_id, author_id) = (account(&fan), account(&author));

    // As an older release wrote them: flags in the status's partition, no mirrors; plus a
    // mirror whose follow edge is gone.
    for kind in Interaction::ALL {
        rewrite(&t, keys::interaction(status, kind, fan_id), Some(keys::legacy_interaction(status, kind, fan_id))).await;
    }
    for mirror in [keys::followed_by(author_id, fan_id), keys::followed_by(fan_id, author_id), keys::muted_by(fan_id, author_id)] {
        rewrite(&t, mirror, None).await;
    }
    let stale = keys::followed_by(author_id, account(&other));
    t.app.store().transact(vec![core_app::model::put(stale.clone(), &json!({"id": "1"}), Condition::None).unwrap()], vec![]).await.unwrap();
    let flags = |reply: serde_json::Value| (reply["favourited"].clone(), reply["bookmarked"].clone(), reply["reblogged"].clone());
    let seen = flags(t.get(&format!("/api/v1/statuses/{sid}"), Some(&fan.token)).await.expect(200));
    assert_eq!(seen, (json!(false), json!(false), json!(false)), "not migrated yet: the flags are where nothing reads them");

    let done = migrations::run_all(&t.app).await.unwrap();
    assert_eq!(done.iter().map(|m| (m.name, m.items)).collect::<Vec<_>>(), [(migrations::INTERACTIONS_TO_ACCOUNTS, 6), (migrations::RELATION_MIRRORS, 4)]);
    let seen = flags(t.get(&format!("/api/v1/statuses/{sid}"), Some(&fan.token)).await.expect(200));
    assert_eq!(seen, (json!(true), json!(true), json!(true)));
    let store = t.app.store();
    for kind in Interaction::ALL {
        assert!(store.get(&keys::legacy_interaction(status, kind, fan_id)).await.unwrap().is_none(), "{kind:?} moved, not copied");
    }
    let mirrors = [keys::followed_by(author_id, fan_id), keys::followed_by(fan_id, author_id), keys::muted_by(fan_id, author_id)];
    assert!(store.get_many(&mirrors).await.unwrap().iter().all(Option::is_some), "every edge has its mirror");
    assert!(store.get(&stale).await.unwrap().is_none(), "a mirror without its edge goes");

    // Migrated items behave as new ones: undone once, counted once.
    t.post(&format!("/api/v1/statuses/{sid}/unfavourite"), Some(&fan.token), json!({})).await.expect(200);
    let after = t.get(&format!("/api/v1/statuses/{sid}"), Some(&fan.token)).await.expect(200);
    assert_eq!((after["favourited"].clone(), after["favourites_count"].clone()), (json!(false), json!(0)));
    // The author mutes the fan's notifications: read through the mirror, a new favourite
    // notifies nobody. The fan does not mute the author: the author's favourite notifies it.
    let fan_post = t.post_status(&fan, json!({"status": "fan post"})).await;
    t.post(&format!("/api/v1/statuses/{sid}/favourite"), Some(&fan.token), json!({})).await.expect(200);
    t.post(&format!("/api/v1/statuses/{}/favourite", id(&fan_post)), Some(&author.token), json!({})).await.expect(200);
    t.settle().await;
    let kinds = |user: &User| {
        let path = "/api/v1/notifications?types[]=favourite".to_owned();
        let token = user.token.clone();
        let t = &t;
        async move { t.get(&path, Some(&token)).await.expect(200).as_array().unwrap().len() }
    };
    assert_eq!(kinds(&author).await, 0, "muted with notifications, through the mirror");
    assert_eq!(kinds(&fan).await, 1);

    // Run again: nothing left to do.
    let again = migrations::run_all(&t.app).await.unwrap();
    assert_eq!(again.iter().map(|m| m.items).collect::<Vec<_>>(), [0, 3], "the mirrors are rewritten, the same");

    // Undone edges take their mirrors with them.
    t.post(&format!("/api/v1/accounts/{}/unmute", fan.id), Some(&author.token), json!({})).await.expect(200);
    t.post(&format!("/api/v1/accounts/{}/unfollow", author.id), Some(&fan.token), json!({})).await.expect(200);
    let gone = [keys::muted_by(fan_id, author_id), keys::followed_by(author_id, fan_id)];
    assert!(store.get_many(&gone).await.unwrap().iter().all(Option::is_none));
    assert!(store.get(&keys::followed_by(fan_id, author_id)).await.unwrap().is_some(), "the other follow stands");
}
