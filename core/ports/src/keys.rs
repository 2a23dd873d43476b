//! The part of the key layout that adapters share with core: where the Kinesis consumer keeps
//! its leases and checkpoints in the [`crate::ports::Store`], and where presigned uploads land
//! in the [`crate::ports::MediaStore`]. Everything else of the single-table layout lives in
//! `core-app`'s `keys.rs`; no adapter spells a key of its own.

use shared::id::Id;

use crate::ports::Key;

/// `KL#{stream}#{app}#{shard}`: an application's lease windows on one shard (sort keys: the
/// window, and `{window}#{owner}` markers).
pub fn kinesis_lease_partition(stream: &str, application: &str, shard: &str) -> String {
    format!("{}#{shard}", kinesis_lease_prefix(stream, application))
}

/// `KL#{stream}#{app}`: the prefix of an application's shard leases ([`crate::leases::Leases`]).
pub fn kinesis_lease_prefix(stream: &str, application: &str) -> String {
    format!("KL#{stream}#{application}")
}

/// `OL#{consumer}`: the prefix of the outbox relay's partition leases (one partition `OL#{consumer}#{p}`
/// per log partition; sort keys as [`kinesis_lease_partition`]'s).
pub fn relay_lease_prefix(consumer: &str) -> String {
    format!("OL#{consumer}")
}

/// `OI#{consumer}`: the outbox relay's process heartbeats (sort key: the owner).
pub fn relay_instances_partition(consumer: &str) -> String {
    format!("OI#{consumer}")
}

/// `KC#{stream}#{app}` / shard: an application's checkpoint on one shard.
pub fn kinesis_checkpoint(stream: &str, application: &str, shard: &str) -> Key {
    Key::new(format!("KC#{stream}#{application}"), shard)
}

/// `KC#{stream}` / shard: a checkpoint from before applications (adopted by `analytics`).
pub fn kinesis_legacy_checkpoint(stream: &str, shard: &str) -> Key {
    Key::new(format!("KC#{stream}"), shard)
}

/// `KI#{stream}#{app}`: an application's instance heartbeats (sort key: the owner).
pub fn kinesis_instances_partition(stream: &str, application: &str) -> String {
    format!("KI#{stream}#{application}")
}

/// The extensions a presigned upload may carry (what the media pipeline accepts).
pub const UPLOAD_EXTENSIONS: [&str; 6] = ["jpg", "png", "gif", "webp", "mp4", "webm"];

/// `uploads/{account}/{id}.{ext}`: where the edge presigns an upload of `account`'s media `id`.
pub fn upload_key(account: Id, id: Id, ext: &str) -> String {
    format!("uploads/{account}/{id}.{ext}")
}

/// The owner and media id of an upload object's key ([`upload_key`]); `None` for any other key.
pub fn parse_upload_key(key: &str) -> Option<(Id, Id)> {
    let rest = key.strip_prefix("uploads/")?;
    let (account, file) = rest.split_once('/')?;
    let (id, ext) = file.split_once('.')?;
    if !UPLOAD_EXTENSIONS.contains(&ext) {
        return None;
    }
    Some((Id::from_u64(account.parse().ok()?), Id::from_u64(id.parse().ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_keys_round_trip_and_nothing_else_parses() {
        let (owner, id) = (Id::from_u64(7), Id::from_u64(4242));
        for ext in UPLOAD_EXTENSIONS {
            assert_eq!(parse_upload_key(&upload_key(owner, id, ext)), Some((owner, id)), "{ext}");
        }
        for key in
            ["uploads/7/4242.exe", "uploads/x/1.png", "uploads/7/a.png", "uploads/7/8/9.png", "uploads/7/9", "uploads/not-an-upload.txt", "media/7/4242.png"]
        {
            assert_eq!(parse_upload_key(key), None, "{key}");
        }
    }

    #[test]
    fn kinesis_keys_keep_their_stored_layout() {
        assert_eq!(kinesis_lease_partition("s", "fanout", "shard-0"), "KL#s#fanout#shard-0");
        assert_eq!(kinesis_checkpoint("s", "fanout", "shard-0"), Key::new("KC#s#fanout", "shard-0"));
        assert_eq!(kinesis_legacy_checkpoint("s", "shard-0"), Key::new("KC#s", "shard-0"));
        assert_eq!(kinesis_instances_partition("s", "fanout"), "KI#s#fanout");
    }
}
