//! The ready queries of docs/analytics.md, in SQL both PostgreSQL and Redshift run
//! (no correlated subqueries in select lists, no ON CONFLICT, TO_CHAR for labels).

use crate::{AnalyticsLoader, LoadError};

/// Distinct accounts that did anything (posted, boosted, favourited, followed, edited, …), per UTC day.
pub const DAILY_ACTIVE_USERS: &str = "
SELECT TO_CHAR(DATE_TRUNC('day', occurred_at), 'YYYY-MM-DD') AS day, COUNT(DISTINCT actor_id) AS users
FROM starling_events
GROUP BY 1
ORDER BY 1";

/// Original posts (no boosts) created per UTC hour.
pub const POSTS_PER_HOUR: &str = "
SELECT TO_CHAR(DATE_TRUNC('hour', occurred_at), 'YYYY-MM-DD HH24:00') AS hour, COUNT(*) AS posts
FROM starling_events
WHERE event_type = 'status_created' AND reblog_of_id IS NULL
GROUP BY 1
ORDER BY 1";

/// Hashtags of live public and unlisted posts, most used first.
pub const TOP_HASHTAGS: &str = "
SELECT t.tag, COUNT(*) AS uses
FROM starling_status_tags t
JOIN starling_events e ON e.seq = t.seq AND e.visibility IN ('public', 'unlisted')
WHERE t.status_id NOT IN (SELECT status_id FROM starling_events WHERE event_type = 'status_deleted')
GROUP BY t.tag
ORDER BY uses DESC, t.tag
LIMIT 10";

/// Favourites, boosts and replies per live original post (net of undos and deletions), most engaged first.
pub const ENGAGEMENT_PER_POST: &str = "
WITH deleted AS (
    SELECT status_id FROM starling_events WHERE event_type = 'status_deleted'
), posts AS (
    SELECT status_id FROM starling_events
    WHERE event_type = 'status_created' AND reblog_of_id IS NULL AND status_id NOT IN (SELECT status_id FROM deleted)
), favs AS (
    SELECT status_id, SUM(CASE WHEN event_type = 'favourited' THEN 1 ELSE -1 END) AS n
    FROM starling_events WHERE event_type IN ('favourited', 'unfavourited')
    GROUP BY status_id
), boosts AS (
    SELECT reblog_of_id AS status_id, COUNT(*) AS n
    FROM starling_events
    WHERE event_type = 'status_created' AND reblog_of_id IS NOT NULL AND status_id NOT IN (SELECT status_id FROM deleted)
    GROUP BY reblog_of_id
), replies AS (
    SELECT in_reply_to_id AS status_id, COUNT(*) AS n
    FROM starling_events
    WHERE event_type = 'status_created' AND in_reply_to_id IS NOT NULL AND status_id NOT IN (SELECT status_id FROM deleted)
    GROUP BY in_reply_to_id
)
SELECT p.status_id,
       COALESCE(f.n, 0) AS favourites,
       COALESCE(b.n, 0) AS boosts,
       COALESCE(r.n, 0) AS replies,
       COALESCE(f.n, 0) + COALESCE(b.n, 0) + COALESCE(r.n, 0) AS engagement
FROM posts p
LEFT JOIN favs f ON f.status_id = p.status_id
LEFT JOIN boosts b ON b.status_id = p.status_id
LEFT JOIN replies r ON r.status_id = p.status_id
ORDER BY engagement DESC, p.status_id DESC
LIMIT 100";

/// A post's engagement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engagement {
    /// The post (Mastodon's string id).
    pub status_id: String,
    /// Favourites (net of unfavourites).
    pub favourites: i64,
    /// Live boosts.
    pub boosts: i64,
    /// Live replies.
    pub replies: i64,
}

impl AnalyticsLoader {
    /// (UTC day `YYYY-MM-DD`, active accounts).
    pub async fn daily_active_users(&self) -> Result<Vec<(String, i64)>, LoadError> {
        pairs(self.query(DAILY_ACTIVE_USERS).await?)
    }

    /// (UTC hour `YYYY-MM-DD HH:00`, original posts).
    pub async fn posts_per_hour(&self) -> Result<Vec<(String, i64)>, LoadError> {
        pairs(self.query(POSTS_PER_HOUR).await?)
    }

    /// (tag, uses), top 10.
    pub async fn top_hashtags(&self) -> Result<Vec<(String, i64)>, LoadError> {
        pairs(self.query(TOP_HASHTAGS).await?)
    }

    /// The 100 most engaged live posts.
    pub async fn engagement_per_post(&self) -> Result<Vec<Engagement>, LoadError> {
        Ok(self
            .query(ENGAGEMENT_PER_POST)
            .await?
            .iter()
            .map(|r| {
                Ok(Engagement {
                    status_id: u64::try_from(r.try_get::<_, i64>(0)?).unwrap_or(0).to_string(),
                    favourites: r.try_get(1)?,
                    boosts: r.try_get(2)?,
                    replies: r.try_get(3)?,
                })
            })
            .collect::<Result<_, tokio_postgres::Error>>()?)
    }
}

/// (label, count) rows.
fn pairs(rows: Vec<tokio_postgres::Row>) -> Result<Vec<(String, i64)>, LoadError> {
    Ok(rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<_, tokio_postgres::Error>>()?)
}
