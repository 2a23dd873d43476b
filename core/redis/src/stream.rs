//! Streaming channels over Redis sharded pub/sub, so a client connected to any core process
//! hears what any of them publishes.
//!
//! Each process keeps one Redis subscription per channel that has local listeners, on a
//! dedicated subscriber connection, and fans its messages out to local tokio broadcast
//! receivers (the same shape `MemoryStreamHub` hands out). The first local listener subscribes
//! (`SSUBSCRIBE`); a sweep unsubscribes channels whose local listeners have all gone (a
//! dropped broadcast receiver tells no one, so departures are noticed within
//! [`SWEEP_INTERVAL`]). fred resubscribes every tracked channel after a reconnect.
//!
//! Why sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`, Redis 7.0+) rather than `PUBLISH`: on a
//! cluster a plain message is broadcast to every node over the cluster bus, and `PUBSUB NUMSUB`
//! counts only the subscribers of the node asked. A sharded channel lives in its key slot: the
//! message goes to that shard only, and `PUBSUB SHARDNUMSUB` on the slot's node counts every
//! subscriber in the deployment, which is what [`StreamHub::has_subscribers`] must answer (the
//! process that publishes an event is rarely the one its listeners are connected to). On a
//! single node both commands behave like their plain forms.
//!
//! Messages are [`StreamMessage`] as JSON (`{"event": …, "payload": …}`, Mastodon's own shape).
//! Event claims are `SET stream:claim:{seq} NX PX` keys that expire after [`CLAIM_TTL`].
//!
//! The public timeline channels (`timeline:public`, `:local`, `:media`, …) carry every public
//! post of the deployment: one Redis channel lives on one shard, so with `public_shards` > 1
//! each is spread over that many Redis channels, `{channel}` (shard 0) and `{channel}#{k}`, by
//! a hash of the status id (so a status's `update`, `status.update` and `delete` keep their
//! order); a process listening to one subscribes to every shard and hears them as one channel.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use async_trait::async_trait;
use core_ports::ports::{CacheError, StreamHub, StreamMessage};
use fred::clients::SubscriberClient;
use fred::prelude::{ClientLike as _, EventInterface as _, KeysInterface as _, PubsubInterface as _};
use fred::types::{Expiration, SetOptions};
use tokio::sync::broadcast;

use crate::{Redis, failed};

/// Messages a local listener may fall behind by before it skips the oldest (as in memory).
const CHANNEL_CAPACITY: usize = 256;
/// How often channels without local listeners are unsubscribed.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(2);
/// How long an event claim is remembered: far longer than any process lags behind the log
/// head (the streaming consumer starts at the head and keeps up or skips).
const CLAIM_TTL: Duration = Duration::from_secs(300);

/// Channels spread over `public_shards` Redis channels (see the module's documentation).
const SPREAD_PREFIX: &str = "timeline:public";

/// Streaming channels shared by every core process on one Redis (single node or cluster).
#[derive(Clone)]
pub struct RedisStreamHub {
    hub: Arc<Hub>,
}

struct Hub {
    /// Publishes, claims and counts subscribers.
    redis: Redis,
    /// This process's subscriptions.
    subscriber: SubscriberClient,
    /// Channels subscribed in Redis, with their local listeners.
    channels: Mutex<HashMap<String, broadcast::Sender<Arc<StreamMessage>>>>,
    /// Held while a channel is subscribed or unsubscribed in Redis, so the two never cross.
    transitions: tokio::sync::Mutex<()>,
    /// The dispatcher, sweeper and resubscriber tasks, ended with the hub.
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
    /// Redis channels each public timeline channel is spread over (1: not spread).
    public_shards: u32,
    /// Which shard of a spread channel the next subscriber count asks.
    next_count: AtomicU32,
}

impl Drop for Hub {
    fn drop(&mut self) {
        for task in self.tasks.get_mut().unwrap_or_else(PoisonError::into_inner).drain(..) {
            task.abort();
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let subscriber = self.subscriber.clone();
            runtime.spawn(async move {
                let _ = subscriber.quit().await;
            });
        }
    }
}

impl RedisStreamHub {
    /// Opens this process's subscriber connection to the Redis `redis` reaches.
    pub async fn connect(redis: &Redis) -> Result<Self, CacheError> {
        Self::connect_with(redis, SWEEP_INTERVAL, 1).await
    }

    /// Like [`RedisStreamHub::connect`], noticing departed listeners every `sweep`.
    pub async fn connect_with_sweep(redis: &Redis, sweep: Duration) -> Result<Self, CacheError> {
        Self::connect_with(redis, sweep, 1).await
    }

    /// Like [`RedisStreamHub::connect_with_sweep`], the public timeline channels spread over
    /// `public_shards` Redis channels each (every process of a deployment must use the same).
    pub async fn connect_with(redis: &Redis, sweep: Duration, public_shards: u32) -> Result<Self, CacheError> {
        let subscriber =
            crate::builder(&redis.config, redis.timeouts).build_subscriber_client().map_err(|e| CacheError::new("cannot configure the redis subscriber", e))?;
        // Taken before connecting, so no message can come before someone reads them.
        let messages = subscriber.message_rx();
        crate::init(&subscriber, &redis.location).await?;
        let hub = Arc::new(Hub {
            redis: redis.clone(),
            subscriber,
            channels: Mutex::new(HashMap::new()),
            transitions: tokio::sync::Mutex::new(()),
            tasks: Mutex::new(Vec::new()),
            public_shards: public_shards.max(1),
            next_count: AtomicU32::new(0),
        });
        let resubscriber = hub.subscriber.manage_subscriptions();
        let dispatcher = tokio::spawn(dispatch(Arc::downgrade(&hub), messages));
        let sweeper = tokio::spawn(sweep_every(Arc::downgrade(&hub), sweep));
        hub.tasks.lock().unwrap_or_else(PoisonError::into_inner).extend([resubscriber.abort_handle(), dispatcher.abort_handle(), sweeper.abort_handle()]);
        Ok(RedisStreamHub { hub })
    }

    /// Channels this process is subscribed to in Redis (for tests and diagnostics).
    pub fn subscribed_channels(&self) -> Vec<String> {
        self.hub.subscriber.tracked_shard_channels().into_iter().map(|c| c.to_string()).collect()
    }
}

impl Hub {
    fn spread(&self, channel: &str) -> bool {
        self.public_shards > 1 && channel.starts_with(SPREAD_PREFIX)
    }

    /// The Redis channels `channel` is published on: itself, or every shard when spread.
    fn redis_channels(&self, channel: &str) -> Vec<String> {
        if !self.spread(channel) {
            return vec![channel.to_owned()];
        }
        (0..self.public_shards).map(|shard| shard_channel(channel, shard)).collect()
    }

    /// The channel listeners know a Redis channel by (a shard's name without its `#{k}`).
    fn channel_of<'a>(&self, redis_channel: &'a str) -> &'a str {
        match redis_channel.rsplit_once('#') {
            Some((base, shard)) if !shard.is_empty() && shard.bytes().all(|b| b.is_ascii_digit()) && self.spread(base) => base,
            _ => redis_channel,
        }
    }

    /// A receiver on a channel already subscribed in Redis.
    fn local_receiver(&self, channel: &str) -> Option<broadcast::Receiver<Arc<StreamMessage>>> {
        self.channels.lock().unwrap_or_else(PoisonError::into_inner).get(channel).map(broadcast::Sender::subscribe)
    }

    fn has_local_listeners(&self, channel: &str) -> bool {
        self.channels.lock().unwrap_or_else(PoisonError::into_inner).get(channel).is_some_and(|s| s.receiver_count() > 0)
    }

    /// Hands a Redis message to the channel's local listeners.
    fn deliver(&self, message: &fred::types::Message) {
        let Some(bytes) = message.value.as_bytes() else { return };
        let decoded: StreamMessage = match serde_json::from_slice(bytes) {
            Ok(decoded) => decoded,
            Err(e) => {
                tracing::warn!(error = %e, channel = %message.channel, "undecodable stream message");
                return;
            }
        };
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = channels.get(self.channel_of(&message.channel)) {
            // No receiver left: the sweep unsubscribes.
            let _ = sender.send(Arc::new(decoded));
        }
    }

    /// Unsubscribes channels without local listeners, and any subscription Redis still holds
    /// that no channel here wants (an unsubscribe that failed during an outage).
    async fn sweep(&self) {
        let _transition = self.transitions.lock().await;
        let wanted: HashSet<String> = {
            let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
            channels.retain(|_, sender| sender.receiver_count() > 0);
            channels.keys().flat_map(|channel| self.redis_channels(channel)).collect()
        };
        for channel in self.subscriber.tracked_shard_channels() {
            if !wanted.contains(&*channel) {
                if let Err(e) = self.subscriber.sunsubscribe(channel.to_string()).await {
                    tracing::warn!(error = %e, channel = %channel, "cannot unsubscribe a stream channel; retrying at the next sweep");
                }
            }
        }
    }
}

async fn dispatch(hub: Weak<Hub>, mut messages: broadcast::Receiver<fred::types::Message>) {
    loop {
        match messages.recv().await {
            Ok(message) => match hub.upgrade() {
                Some(hub) => hub.deliver(&message),
                None => return,
            },
            Err(broadcast::error::RecvError::Lagged(skipped)) => tracing::warn!(skipped, "stream messages dropped: the dispatcher fell behind"),
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

async fn sweep_every(hub: Weak<Hub>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        hub.sweep().await;
    }
}

#[async_trait]
impl StreamHub for RedisStreamHub {
    async fn publish(&self, channel: &str, message: StreamMessage) -> Result<(), CacheError> {
        let body = serde_json::to_string(&message).map_err(|e| CacheError::new("cannot encode a stream message", e))?;
        let target = if self.hub.spread(channel) { shard_channel(channel, shard_of(&message, self.hub.public_shards)) } else { channel.to_owned() };
        let redis = &self.hub.redis;
        redis.guarded("spublish", async { redis.client.spublish::<i64, _, _>(target, body).await.map(|_| ()).map_err(|e| failed("spublish", &e)) }).await
    }

    async fn subscribe(&self, channel: &str) -> Result<broadcast::Receiver<Arc<StreamMessage>>, CacheError> {
        if let Some(receiver) = self.hub.local_receiver(channel) {
            return Ok(receiver);
        }
        let _transition = self.hub.transitions.lock().await;
        if let Some(receiver) = self.hub.local_receiver(channel) {
            return Ok(receiver);
        }
        // Listed only once Redis confirmed, so a receiver handed out never misses a message
        // published after `subscribe` returned.
        let subscriber = &self.hub.subscriber;
        // One at a time: a cluster takes one slot per SSUBSCRIBE, and the shards are spread over
        // slots. A failure part way leaves subscriptions no channel wants: the sweep drops them.
        for redis_channel in self.hub.redis_channels(channel) {
            self.hub.redis.guarded("ssubscribe", async { subscriber.ssubscribe(redis_channel).await.map_err(|e| failed("ssubscribe", &e)) }).await?;
        }
        let (sender, receiver) = broadcast::channel(CHANNEL_CAPACITY);
        self.hub.channels.lock().unwrap_or_else(PoisonError::into_inner).insert(channel.to_owned(), sender);
        Ok(receiver)
    }

    async fn has_subscribers(&self, channel: &str) -> Result<bool, CacheError> {
        if self.hub.has_local_listeners(channel) {
            return Ok(true);
        }
        // [channel, count], asked of the node owning the channel's slot. Listeners of a spread
        // channel subscribe to every shard: any one tells, so the asking goes round them.
        let asked = if self.hub.spread(channel) {
            shard_channel(channel, self.hub.next_count.fetch_add(1, Ordering::Relaxed) % self.hub.public_shards)
        } else {
            channel.to_owned()
        };
        let redis = &self.hub.redis;
        let reply: Vec<fred::types::Value> =
            redis.guarded("pubsub shardnumsub", async { redis.client.pubsub_shardnumsub(asked).await.map_err(|e| failed("pubsub shardnumsub", &e)) }).await?;
        Ok(reply.get(1).and_then(fred::types::Value::as_i64).is_some_and(|count| count > 0))
    }

    async fn ping(&self) -> Result<(), CacheError> {
        self.hub.redis.ping().await?;
        if self.hub.subscriber.is_connected() { Ok(()) } else { Err(CacheError("the redis subscriber is not connected".into())) }
    }

    async fn claim(&self, seq: u64) -> Result<bool, CacheError> {
        let ttl = i64::try_from(CLAIM_TTL.as_millis()).unwrap_or(i64::MAX);
        let redis = &self.hub.redis;
        let claim = redis.client.set(format!("stream:claim:{seq}"), 1, Some(Expiration::PX(ttl)), Some(SetOptions::NX), false);
        let set: Option<String> = redis.guarded("set nx", async { claim.await.map_err(|e| failed("set nx", &e)) }).await?;
        Ok(set.is_some())
    }
}

/// Shard `shard` of a spread channel: the channel itself for 0, `{channel}#{shard}` otherwise.
fn shard_channel(channel: &str, shard: u32) -> String {
    if shard == 0 { channel.to_owned() } else { format!("{channel}#{shard}") }
}

/// The shard of a spread channel `message` goes to: by the status it is about (a `delete`'s
/// payload is the id; an `update`'s or `status.update`'s the status, whose `id` comes first),
/// so one status's messages stay in order; anything else by its whole payload.
fn shard_of(message: &StreamMessage, shards: u32) -> u32 {
    #[derive(serde::Deserialize)]
    struct About {
        id: String,
    }
    let about = if message.event == "delete" {
        message.payload.clone()
    } else {
        serde_json::from_str::<About>(&message.payload).map_or_else(|_| message.payload.clone(), |a| a.id)
    };
    // FNV-1a: the same in every process and version.
    let hash = about.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    (hash % u64::from(shards.max(1))) as u32
}
