use crate::TestApp;

#[tokio::test]
async fn a_followers_home_shows_new_posts_after_fanout() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    t.follow(&bob, &alice).await;
    assert!(t.home_ids(&bob).await.is_empty());
    let post = t.post_status(&alice, serde_json::json!({"status": "hello followers"})).await;
    assert_eq!(t.home_ids(&bob).await, vec![crate::id(&post)]);
}
