//! The [`MediaStore`] contract.

use super::ns;
use crate::ports::MediaStore;

fn dir() -> String {
    ns("media").replace('#', "-")
}

/// Every promise in turn.
pub async fn all(media: &dyn MediaStore) {
    a_missing_object_reads_as_none(media).await;
    puts_read_back_and_replace(media).await;
    binary_objects_round_trip_exactly(media).await;
    deleted_objects_are_gone_and_deleting_twice_is_fine(media).await;
    invalid_keys_are_refused(media).await;
}

pub async fn a_missing_object_reads_as_none(media: &dyn MediaStore) {
    assert_eq!(media.get(&format!("{}/a/original.png", dir())).await.unwrap(), None, "a missing object reads as None");
}

pub async fn puts_read_back_and_replace(media: &dyn MediaStore) {
    let key = format!("{}/a/original.png", dir());
    media.put(&key, b"first".to_vec(), "image/png").await.unwrap();
    assert_eq!(media.get(&key).await.unwrap().as_deref(), Some(&b"first"[..]), "an object reads back");
    media.put(&key, b"second version".to_vec(), "image/png").await.unwrap();
    assert_eq!(media.get(&key).await.unwrap().as_deref(), Some(&b"second version"[..]), "a put replaces the object");
    media.delete(&key).await.unwrap();
}

pub async fn binary_objects_round_trip_exactly(media: &dyn MediaStore) {
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let key = format!("{}/b/original.mp4", dir());
    media.put(&key, big.clone(), "video/mp4").await.unwrap();
    assert_eq!(media.get(&key).await.unwrap(), Some(big), "binary objects round-trip exactly");
    media.delete(&key).await.unwrap();
}

pub async fn deleted_objects_are_gone_and_deleting_twice_is_fine(media: &dyn MediaStore) {
    let key = format!("{}/c/small.png", dir());
    media.put(&key, b"x".to_vec(), "image/png").await.unwrap();
    media.delete(&key).await.unwrap();
    assert_eq!(media.get(&key).await.unwrap(), None, "a deleted object is gone");
    media.delete(&key).await.unwrap();
}

pub async fn invalid_keys_are_refused(media: &dyn MediaStore) {
    for bad in ["", "../escape", "a/../../b", "/absolute", "a//b", "sp ace", "a\\b"] {
        assert!(media.put(bad, b"x".to_vec(), "image/png").await.is_err(), "key {bad:?} is refused");
        assert!(media.get(bad).await.is_err(), "key {bad:?} is refused on read");
    }
}
