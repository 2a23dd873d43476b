// Generated from shared::wire (the Rust wire entities) by shared/tests/wire_ts.rs; do not edit.
// Regenerate: STARLING_WIRE_TS=write cargo test -p shared --test wire_ts

/**
 * `{}`: what Mastodon answers where there is nothing to return (dismissing a notification,
 * revoking a token, removing a push subscription).
 */
export type Empty = Record<string, never>;

/** Who may see a status. */
export type Visibility =
  | "public"
  | "unlisted"
  | "private"
  | "direct";

/** A custom emoji (Starling defines none yet, but the field is always present). */
export interface CustomEmoji {
  /** Name between colons. */
  shortcode: string;
  /** Image URL. */
  url: string;
  /** Non-animated image URL. */
  static_url: string;
  /** Whether pickers show it. */
  visible_in_picker: boolean;
  /** Grouping in pickers. */
  category: string | null;
}

/** A profile metadata field. */
export interface Field {
  /** Key. */
  name: string;
  /** Value, as HTML. */
  value: string;
  /** When the value was verified as a link back, if ever. */
  verified_at: string | null;
}

/** The editable source of the signed-in account's profile (in `CredentialAccount`). */
export interface AccountSource {
  /** Default visibility of new posts. */
  privacy: Visibility;
  /** Mark media sensitive by default. */
  sensitive: boolean;
  /** Default language (ISO 639-1), if any. */
  language: string | null;
  /** Bio as plain text. */
  note: string;
  /** Profile fields as plain text. */
  fields: Field[];
  /** Pending follow requests. */
  follow_requests_count: number;
  /** Whether follower/following lists are hidden. */
  hide_collections: boolean;
  /** Whether the account appears in the directory. */
  discoverable: boolean;
  /** Whether public posts may be indexed for search. */
  indexable: boolean;
  /** Who may quote new posts by default. */
  quote_policy: QuotePolicy;
}

/** The account's role (for `CredentialAccount`). */
export interface Role {
  /** Role id. */
  id: string;
  /** Name. */
  name: string;
  /** Permission bit set, as a string. */
  permissions: string;
  /** Hex colour. */
  color: string;
  /** Whether it shows on the profile. */
  highlighted: boolean;
}

/** A user account. */
export interface Account {
  /** Account id. */
  id: string;
  /** Local username. */
  username: string;
  /** `username` for local accounts, `username@domain` for remote ones. */
  acct: string;
  /** Profile display name. */
  display_name: string;
  /** Whether follows need approval. */
  locked: boolean;
  /** Whether the account is automated. */
  bot: boolean;
  /** Whether the account appears in the directory. */
  discoverable: boolean;
  /** Whether public posts may be indexed. */
  indexable: boolean;
  /** Whether the account is a group. */
  group: boolean;
  /** Creation date (midnight UTC, as Mastodon rounds it). */
  created_at: string;
  /** Bio, as HTML. */
  note: string;
  /** Profile page. */
  url: string;
  /** ActivityPub id. */
  uri: string;
  /** Avatar image. */
  avatar: string;
  /** Avatar, not animated. */
  avatar_static: string;
  /** Header image. */
  header: string;
  /** Header, not animated. */
  header_static: string;
  /** Followers. */
  followers_count: number;
  /** Followed accounts. */
  following_count: number;
  /** Posts. */
  statuses_count: number;
  /** Date of the last post. */
  last_status_at: string | null;
  /** Whether follower/following lists are hidden. */
  hide_collections: boolean;
  /** Whether search engines should skip the profile. */
  noindex: boolean;
  /** Emojis used in the profile. */
  emojis: CustomEmoji[];
  /** Profile fields. */
  fields: Field[];
  /** Roles shown on the profile. */
  roles: Role[];
  /** Editable source, only for the signed-in account. */
  source?: AccountSource | null;
  /** Role, only for the signed-in account. */
  role?: Role | null;
}

/** An account as `GET /api/v1/mutes` lists it: with when its mute ends. */
export interface MutedAccount extends Account {
  /** When the mute lifts by itself; `null`: never. */
  mute_expires_at: string | null;
}

/** A mention within a status. */
export interface StatusMention {
  /** Mentioned account id. */
  id: string;
  /** Its username. */
  username: string;
  /** Its profile URL. */
  url: string;
  /** Its acct. */
  acct: string;
}

/** A hashtag as it appears within a status. */
export interface StatusTag {
  /** Tag name, without `#`. */
  name: string;
  /** Tag timeline page. */
  url: string;
}

/** Usage of a tag on one day. */
export interface TagHistory {
  /** Day, as a UNIX timestamp string. */
  day: string;
  /** Posts that day. */
  uses: string;
  /** Distinct accounts that day. */
  accounts: string;
}

/** A hashtag entity (search results, `/api/v1/tags/:name`). */
export interface Tag {
  /** Tag id. */
  id: string;
  /** Name, without `#`. */
  name: string;
  /** Tag timeline page. */
  url: string;
  /** Recent daily usage. */
  history: TagHistory[];
  /** Whether the viewer follows it. */
  following?: boolean | null;
  /** Whether the viewer features it on their profile. */
  featuring?: boolean | null;
}

/** A hashtag featured on a profile. */
export interface FeaturedTag {
  /** The featured tag's id. */
  id: string;
  /** The hashtag, without `#`. */
  name: string;
  /** The account's statuses with this hashtag. */
  url: string;
  /** How many of the account's public statuses carry it (a string, as Mastodon sends it). */
  statuses_count: string;
  /** The day of the newest of them (`YYYY-MM-DD`). */
  last_status_at: string | null;
}

/** Results of `GET /api/v2/search`. */
export interface Search {
  /** Matching accounts. */
  accounts: Account[];
  /** Matching statuses. */
  statuses: Status[];
  /** Matching hashtags. */
  hashtags: Tag[];
}

/** An attached file. */
export interface MediaAttachment {
  /** Attachment id. */
  id: string;
  /** `image`, `gifv`, `video`, `audio` or `unknown`. */
  type: string;
  /** Original file. */
  url: string | null;
  /** Small preview. */
  preview_url: string | null;
  /** Remote original, for remote media. */
  remote_url: string | null;
  /** Dimensions, focus and so on. */
  meta: unknown;
  /** Alt text. */
  description: string | null;
  /** BlurHash of the image. */
  blurhash: string | null;
}

/** The application that posted a status. */
export interface StatusApplication {
  /** App name. */
  name: string;
  /** App homepage. */
  website: string | null;
}

/** A post. */
export interface Status {
  /** Status id. */
  id: string;
  /** ActivityPub id. */
  uri: string;
  /** HTML page. */
  url: string | null;
  /** When posted. */
  created_at: string;
  /** Author. */
  account: Account;
  /** Body, as safe HTML. */
  content: string;
  /** Who may see it. */
  visibility: Visibility;
  /** Whether media are hidden by default. */
  sensitive: boolean;
  /** Content warning. */
  spoiler_text: string;
  /** Attachments. */
  media_attachments: MediaAttachment[];
  /** Posting application, when known. */
  application: StatusApplication | null;
  /** Mentions. */
  mentions: StatusMention[];
  /** Hashtags. */
  tags: StatusTag[];
  /** Custom emojis. */
  emojis: CustomEmoji[];
  /** Boosts. */
  reblogs_count: number;
  /** Favourites. */
  favourites_count: number;
  /** Replies. */
  replies_count: number;
  /** Quotes. */
  quotes_count: number;
  /** Parent status. */
  in_reply_to_id: string | null;
  /** Parent's author. */
  in_reply_to_account_id: string | null;
  /** The boosted status, for a boost. */
  reblog: Status | null;
  /** Attached poll. */
  poll: Poll | null;
  /** Link preview card (not generated yet: always null). */
  card: unknown | null;
  /** ISO 639 language. */
  language: string | null;
  /** Plain-text source, only when deleting (for delete-and-redraft). */
  text?: string | null;
  /** When last edited. */
  edited_at: string | null;
  /** Viewer has favourited. */
  favourited?: boolean | null;
  /** Viewer has boosted. */
  reblogged?: boolean | null;
  /** Viewer muted the conversation. */
  muted?: boolean | null;
  /** Viewer bookmarked. */
  bookmarked?: boolean | null;
  /** Pinned by the author (only when the viewer is the author). */
  pinned?: boolean | null;
  /** The reader's filters that matched (signed-in readers only). */
  filtered?: FilterResult[] | null;
  /**
   * The quoted status, as this reader may see it (Mastodon's `Quote`; `ShallowQuote` inside
   * a quoted status); null when the status quotes nothing.
   */
  quote: StatusQuote | null;
  /** Who may quote the status, and whether this reader may. */
  quote_approval: QuoteApproval | null;
}

/**
 * A status's quote: Mastodon's `Quote` (`state` + `quoted_status`) on a status, its
 * `ShallowQuote` (`state` + `quoted_status_id`) on a status shown inside a quote.
 */
export interface StatusQuote {
  /** Whether the quote stands and this reader may see what it quotes. */
  state: QuoteState;
  /** `Quote`: the quoted status rendered for this reader, null unless `accepted`. */
  quoted_status?: Status | null | null;
  /** `ShallowQuote`: the quoted status's id, null unless `accepted`. */
  quoted_status_id?: string | null | null;
}

/** Mastodon's `QuoteStateEnum` (the states Starling produces). */
export type QuoteState =
  | "accepted"
  | "revoked"
  | "deleted"
  | "unauthorized"
  | "blocked_account";

/** Who may quote a status (`quote_approval_policy`, `source.quote_policy`). */
export type QuotePolicy =
  | "public"
  | "followers"
  | "nobody";

/** Mastodon's `QuoteApproval`: a status's quote policy and what it means for this reader. */
export interface QuoteApproval {
  /** Who may quote it and have the quote accepted at once. */
  automatic: QuoteAudience[];
  /** Whose quotes the author reviews (Starling reviews none: always empty). */
  manual: QuoteAudience[];
  /** What the policy means for this reader. */
  current_user: QuoteApprovalCurrentUser;
}

/** Mastodon's `QuoteApprovalAutomaticEnum` (the audiences Starling's policies name). */
export type QuoteAudience =
  | "public"
  | "followers";

/** Mastodon's `QuoteApprovalCurrentUserEnum`. */
export type QuoteApprovalCurrentUser =
  | "automatic"
  | "manual"
  | "denied"
  | "unknown";

/** A poll attached to a status. */
export interface Poll {
  /** The poll's id (Starling: its status's). */
  id: string;
  /** When voting ends. */
  expires_at: string | null;
  /** Whether voting has ended. */
  expired: boolean;
  /** Whether several options may be chosen. */
  multiple: boolean;
  /** Votes cast (one per option chosen). */
  votes_count: number;
  /** Accounts that voted. */
  voters_count: number | null;
  /** The options, in order. */
  options: PollOption[];
  /** Custom emojis. */
  emojis: CustomEmoji[];
  /** Whether the viewer voted (or wrote the poll); only for a signed-in viewer. */
  voted?: boolean | null;
  /** The indexes the viewer chose; only for a signed-in viewer. */
  own_votes?: number[] | null;
}

/** One option of a [`Poll`]. */
export interface PollOption {
  /** Its text. */
  title: string;
  /** Votes for it; `null` while totals are hidden. */
  votes_count: number | null;
}

/** One revision of a status. */
export interface StatusEdit {
  /** Body, as HTML. */
  content: string;
  /** Content warning. */
  spoiler_text: string;
  /** Sensitive flag. */
  sensitive: boolean;
  /** When this revision was made. */
  created_at: string;
  /** Author. */
  account: Account;
  /** Poll at that revision. */
  poll: unknown | null;
  /** Attachments at that revision. */
  media_attachments: MediaAttachment[];
  /** Emojis. */
  emojis: CustomEmoji[];
}

/** A status's plain-text source, for editing. */
export interface StatusSource {
  /** Status id. */
  id: string;
  /** Text as written. */
  text: string;
  /** Content warning as written. */
  spoiler_text: string;
}

/** The thread around a status. */
export interface Context {
  /** Parents, oldest first. */
  ancestors: Status[];
  /** Replies, depth-first in posting order. */
  descendants: Status[];
}

/** The viewer's relationship to an account. */
export interface Relationship {
  /** The other account. */
  id: string;
  /** Viewer follows it. */
  following: boolean;
  /** Viewer sees its boosts. */
  showing_reblogs: boolean;
  /** Viewer is notified of its posts. */
  notifying: boolean;
  /** Languages the viewer follows it in. */
  languages: string[] | null;
  /** It follows the viewer. */
  followed_by: boolean;
  /** Viewer blocks it. */
  blocking: boolean;
  /** It blocks the viewer. */
  blocked_by: boolean;
  /** Viewer mutes it. */
  muting: boolean;
  /** Viewer mutes its notifications. */
  muting_notifications: boolean;
  /** Viewer's follow request is pending. */
  requested: boolean;
  /** Its follow request to the viewer is pending. */
  requested_by: boolean;
  /** Viewer blocks its domain. */
  domain_blocking: boolean;
  /** Viewer features it. */
  endorsed: boolean;
  /** Viewer's private note. */
  note: string;
}

/** An OAuth application. */
export interface Application {
  /** App id. */
  id: string;
  /** Name. */
  name: string;
  /** Homepage. */
  website: string | null;
  /** Granted scopes. */
  scopes: string[];
  /** Redirect URIs, newline-joined (legacy field). */
  redirect_uri: string;
  /** Redirect URIs. */
  redirect_uris: string[];
  /** Web Push key. */
  vapid_key: string;
  /** Client id (only when creating the app). */
  client_id?: string | null;
  /** Client secret (only when creating the app). */
  client_secret?: string | null;
  /** When the secret expires (0: never; only when creating). */
  client_secret_expires_at?: number | null;
}

/** An OAuth token response. */
export interface Token {
  /** The bearer token. */
  access_token: string;
  /** Always `Bearer`. */
  token_type: string;
  /** Granted scopes, space-separated. */
  scope: string;
  /** Issue time, UNIX seconds. */
  created_at: number;
  /** Seconds until the access token expires, if it does. */
  expires_in?: number | null;
  /** Token to obtain a new access token with. */
  refresh_token?: string | null;
}

/** The error envelope. */
export interface Error {
  /** Human-readable message (OAuth endpoints: the error code). */
  error: string;
  /** Longer explanation (OAuth endpoints). */
  error_description?: string | null;
}

/** The signed-in user's preferences. */
export interface Preferences {
  /** Default visibility. */
  "posting:default:visibility": Visibility;
  /** Default sensitivity. */
  "posting:default:sensitive": boolean;
  /** Default language. */
  "posting:default:language": string | null;
  /** `default`, `show_all` or `hide_all`. */
  "reading:expand:media": string;
  /** Expand content warnings. */
  "reading:expand:spoilers": boolean;
}

/** Something that happened to the user: a mention, boost, favourite, follow, post or edit. */
export interface Notification {
  /** Notification id (the pagination cursor). */
  id: string;
  /** `mention`, `status`, `reblog`, `follow`, `favourite` or `update`. */
  type: string;
  /** When it happened. */
  created_at: string;
  /** `ungrouped-{id}`: Starling does not group notifications. */
  group_key: string;
  /** Who acted. */
  account: Account;
  /** The status acted on (mention, status, reblog, favourite, update). */
  status: Status | null;
}

/** `GET /api/v1/notifications/unread_count`. */
export interface UnreadCount {
  /** Unread notifications, capped at the request's limit. */
  count: number;
}

/**
 * `GET/PATCH /api/v2/notifications/policy`: what happens to notifications from each kind of
 * sender (`accept`, `filter` or `drop`), and what is waiting in notification requests.
 */
export interface NotificationPolicy {
  /** Accounts the user does not follow. */
  for_not_following: string;
  /** Accounts not following the user (or following for less than three days). */
  for_not_followers: string;
  /** Accounts created in the past 30 days. */
  for_new_accounts: string;
  /** Direct mentions the user did not start, from accounts the user does not follow. */
  for_private_mentions: string;
  /** Accounts limited by a moderator (stored; no account is limited until moderation exists). */
  for_limited_accounts: string;
  /** What the policy's filter holds back. */
  summary: NotificationPolicySummary;
}

/** The `summary` of a [`NotificationPolicy`]. */
export interface NotificationPolicySummary {
  /** Accounts with pending filtered notifications (capped at 100). */
  pending_requests_count: number;
  /** Filtered notifications pending in those requests. */
  pending_notifications_count: number;
}

/** The filtered notifications from one account, waiting to be accepted or dismissed. */
export interface NotificationRequest {
  /** The request's id (the pagination cursor). */
  id: string;
  /** When the first filtered notification from the account came. */
  created_at: string;
  /** When the latest one came. */
  updated_at: string;
  /** Who sent them. */
  account: Account;
  /** How many were filtered (a string, as Mastodon sends it). */
  notifications_count: string;
  /** The most recent status among them. */
  last_status: Status | null;
}

/** `GET /api/v1/notifications/requests/merged`. */
export interface Merged {
  /**
   * Whether accepted requests' notifications are back in the list (always: Starling merges
   * them before answering the accept).
   */
  merged: boolean;
}

/**
 * One message of the streaming API: `event` names it, `payload` is the entity as a JSON
 * string (or a bare id for `delete`), `stream` names the subscription on WebSockets.
 */
export interface StreamEvent {
  /** The subscriptions this message belongs to (WebSocket only). */
  stream?: string[];
  /** `update`, `notification`, `delete` or `status.update`. */
  event: string;
  /** The entity, serialised. */
  payload: string;
}

/**
 * A direct conversation as one participant sees it (`GET /api/v1/conversations`): the other
 * participants, the newest status, whether it is unread.
 */
export interface Conversation {
  /** The conversation's id (the reader's own: each participant's differs). */
  id: string;
  /** Whether a status arrived since the reader last read it. */
  unread: boolean;
  /** The other participants (the reader alone in a note to self). */
  accounts: Account[];
  /** The newest status the reader may see. */
  last_status: Status | null;
}

/** A list of accounts its owner follows, read as a timeline of its own (`GET /api/v1/lists`). */
export interface List {
  /** The list's id. */
  id: string;
  /** The owner's name for it. */
  title: string;
  /** Which replies its timeline shows. */
  replies_policy: ListRepliesPolicy;
  /** Whether its members' posts stay out of the owner's home timeline. */
  exclusive: boolean;
}

/** Which replies a list's timeline shows (replies by a member to itself always show). */
export type ListRepliesPolicy =
  | "followed"
  | "list"
  | "none";

/** Where the user stopped reading a timeline (`home` or `notifications`). */
export interface Marker {
  /** The newest id read. */
  last_read_id: string;
  /** Bumped on every change. */
  version: number;
  /** When it last changed. */
  updated_at: string;
}

/** `GET /ready` (Starling's operational endpoint): whether every configured backend answers. */
export interface Readiness {
  /** `ready` when every backend answered, `unavailable` otherwise (served with 503). */
  status: string;
  /** One entry per backend port, in a fixed order. */
  backends: BackendState[];
}

/** One backend's answer to a readiness ping; the failure cause is logged, never sent. */
export interface BackendState {
  /** The port: `store`, `events`, `timelines`, `rate_limits`, `search` or `media`. */
  name: string;
  /** Whether it answered within the ping timeout. */
  up: boolean;
  /** How long the ping took, in milliseconds. */
  latency_ms: number;
}

/** An account as moderators see it. */
export interface AdminAccount {
  /** The account's id. */
  id: string;
  /** Its username. */
  username: string;
  /** Its domain (`null`: local). */
  domain: string | null;
  /** When it signed up. */
  created_at: string;
  /** Its e-mail address. */
  email: string;
  /** The address it last signed in from (not recorded here). */
  ip: string | null;
  /** Addresses it used (not recorded here). */
  ips: unknown[];
  /** Its locale. */
  locale: string;
  /** Why it asked to join (approval-mode sign-ups). */
  invite_request: string | null;
  /** Its role. */
  role: Role;
  /** E-mail confirmed. */
  confirmed: boolean;
  /** Sign-up approved. */
  approved: boolean;
  /** Logins disabled. */
  disabled: boolean;
  /** Silenced. */
  silenced: boolean;
  /** Suspended. */
  suspended: boolean;
  /** Media forced sensitive. */
  sensitized: boolean;
  /** The public account (`null` for a suspended one, whose profile is gone). */
  account: Account | null;
  /** The application it signed up through. */
  created_by_application_id: string | null;
  /** Who invited it. */
  invited_by_account_id: string | null;
}

/** A report as moderators see it. */
export interface AdminReport {
  /** Its id. */
  id: string;
  /** Resolved. */
  action_taken: boolean;
  /** When it was resolved. */
  action_taken_at: string | null;
  /** `spam`, `legal`, `violation` or `other`. */
  category: string;
  /** The reporter's comment. */
  comment: string;
  /** Forwarded to another server (never: all accounts are local). */
  forwarded: boolean;
  /** When it was filed. */
  created_at: string;
  /** When it last changed. */
  updated_at: string;
  /** The reporter. */
  account: AdminAccount;
  /** The reported account. */
  target_account: AdminAccount;
  /** The moderator handling it. */
  assigned_account: AdminAccount | null;
  /** The moderator who resolved it. */
  action_taken_by_account: AdminAccount | null;
  /** The reported statuses (those still there). */
  statuses: Status[];
  /** The rules broken. */
  rules: Rule[];
}

/** Where a filter applies. */
export type FilterContext =
  | "home"
  | "notifications"
  | "public"
  | "thread"
  | "account";

/** What happens to a status a filter matches. */
export type FilterAction =
  | "warn"
  | "hide"
  | "blur";

/** A filter (v2): keywords and statuses grouped under one title, contexts and action. */
export interface Filter {
  /** Filter id. */
  id: string;
  /** The user's name for it. */
  title: string;
  /** Where it applies. */
  context: FilterContext[];
  /** When it stops applying (null: never). */
  expires_at: string | null;
  /** What happens to matches. */
  filter_action: FilterAction;
  /** Its keywords (omitted inside a [`FilterResult`]). */
  keywords?: FilterKeyword[] | null;
  /** Its statuses (omitted inside a [`FilterResult`]). */
  statuses?: FilterStatus[] | null;
}

/** A keyword of a filter. */
export interface FilterKeyword {
  /** Keyword id. */
  id: string;
  /** The phrase matched. */
  keyword: string;
  /** Matched only at word boundaries. */
  whole_word: boolean;
}

/** A status a filter names. */
export interface FilterStatus {
  /** Id of this entry. */
  id: string;
  /** The status filtered. */
  status_id: string;
}

/** A filter that matched a status, and what of it matched. */
export interface FilterResult {
  /** The filter (without keywords and statuses). */
  filter: Filter;
  /** The text its keywords matched. */
  keyword_matches: string[] | null;
  /** The status ids it names that matched. */
  status_matches: string[] | null;
}

/** A v1 filter: one keyword of a v2 filter, with its filter's contexts and expiry. */
export interface V1Filter {
  /** The keyword's id. */
  id: string;
  /** The keyword. */
  phrase: string;
  /** Where it applies. */
  context: FilterContext[];
  /** Matched only at word boundaries. */
  whole_word: boolean;
  /** When it stops applying. */
  expires_at: string | null;
  /** Matches are dropped (the filter's action is `hide`). */
  irreversible: boolean;
}

/** `GET /api/v2/instance`: what the server is and what it allows. */
export interface Instance {
  /** The domain in `acct`s. */
  domain: string;
  /** Name. */
  title: string;
  /** Version string; clients parse the leading Mastodon version. */
  version: string;
  /** Where the source code is. */
  source_url: string;
  /** Short description. */
  description: string;
  /** Usage statistics. */
  usage: InstanceUsage;
  /** Banner image. */
  thumbnail: InstanceThumbnail;
  /** Icons in several sizes (none yet). */
  icon: InstanceIcon[];
  /** Primary languages. */
  languages: string[];
  /** Limits and URLs. */
  configuration: InstanceConfiguration;
  /** Sign-up policy. */
  registrations: InstanceRegistrations;
  /** API capability levels. */
  api_versions: ApiVersions;
  /** Who runs it. */
  contact: InstanceContact;
  /** Server rules. */
  rules: Rule[];
}

/** Usage statistics. */
export interface InstanceUsage {
  /** Users. */
  users: InstanceUsers;
}

/** User statistics. */
export interface InstanceUsers {
  /** Users active in the last month. */
  active_month: number;
}

/** Banner image. */
export interface InstanceThumbnail {
  /** Image URL. */
  url: string;
  /** BlurHash. */
  blurhash: string | null;
  /** The banner at other pixel densities. */
  versions: ThumbnailVersions;
}

/** Limits and URLs. */
export interface InstanceConfiguration {
  /** URLs, among them the streaming API. */
  urls: InstanceUrls;
  /** Web Push key. */
  vapid: Vapid;
  /** Account limits. */
  accounts: AccountLimits;
  /** Status limits. */
  statuses: StatusLimits;
  /** Upload limits. */
  media_attachments: MediaLimits;
  /** Poll limits. */
  polls: PollLimits;
  /** Translation support. */
  translation: Translation;
  /** Who may read which feeds. */
  timelines_access: TimelinesAccess;
  /** Whether federation is limited. */
  limited_federation: boolean;
}

/** Status limits. */
export interface StatusLimits {
  /** Characters per status. */
  max_characters: number;
  /** Attachments per status. */
  max_media_attachments: number;
  /** What every URL counts as. */
  characters_reserved_per_url: number;
}

/** Sign-up policy. */
export interface InstanceRegistrations {
  /** Open for sign-ups. */
  enabled: boolean;
  /** Sign-ups need approval. */
  approval_required: boolean;
  /** A reason must be given. */
  reason_required: boolean;
  /** Custom message. */
  message: string | null;
  /** Minimum age. */
  min_age: number | null;
  /** External sign-up page. */
  url: string | null;
}

/** API capability levels. */
export interface ApiVersions {
  /** Mastodon API version number. */
  mastodon: number;
}

/** Who runs the server. */
export interface InstanceContact {
  /** Contact e-mail. */
  email: string;
  /** Contact account. */
  account: Account | null;
}

/** An icon of the instance at one size. */
export interface InstanceIcon {
  /** Image URL. */
  src: string;
  /** `WIDTHxHEIGHT`. */
  size: string;
}

/** The banner at other pixel densities (`@1x`, `@2x`), when there are such versions. */
export interface ThumbnailVersions {
  /** Standard density. */
  "@1x"?: string | null;
  /** Double density. */
  "@2x"?: string | null;
}

/** A server rule users agree to. */
export interface Rule {
  /** Its id. */
  id: string;
  /** The rule. */
  text: string;
  /** Longer explanation. */
  hint: string;
}

/** `configuration.urls`. */
export interface InstanceUrls {
  /** Base URL of the streaming API (`wss://…`). */
  streaming: string;
  /** Status page. */
  status: string | null;
  /** About page. */
  about: string | null;
  /** Privacy policy. */
  privacy_policy: string | null;
  /** Terms of service. */
  terms_of_service: string | null;
}

/** `configuration.vapid`: the key Web Push subscriptions are made against. */
export interface Vapid {
  /** VAPID public key. */
  public_key: string;
}

/** `configuration.accounts`. */
export interface AccountLimits {
  /** Featured tags per account. */
  max_featured_tags: number;
  /** Pinned statuses per account. */
  max_pinned_statuses: number;
  /** Characters of a display name. */
  max_display_name_length: number;
  /** Characters of a bio. */
  max_note_length: number;
  /** Profile fields. */
  max_profile_fields: number;
  /** Characters of a field's name. */
  profile_field_name_limit: number;
  /** Characters of a field's value. */
  profile_field_value_limit: number;
}

/** `configuration.accounts` in the v1 instance. */
export interface AccountLimitsV1 {
  /** Featured tags per account. */
  max_featured_tags: number;
}

/** `configuration.media_attachments`. */
export interface MediaLimits {
  /** Accepted MIME types. */
  supported_mime_types: string[];
  /** Characters of a description (alt text). */
  description_limit: number;
  /** Bytes of an image. */
  image_size_limit: number;
  /** Pixels of an image. */
  image_matrix_limit: number;
  /** Bytes of a video. */
  video_size_limit: number;
  /** Frames per second of a video. */
  video_frame_rate_limit: number;
  /** Pixels of a video frame. */
  video_matrix_limit: number;
}

/** `configuration.polls`. */
export interface PollLimits {
  /** Options per poll. */
  max_options: number;
  /** Characters per option. */
  max_characters_per_option: number;
  /** Shortest duration, seconds. */
  min_expiration: number;
  /** Longest duration, seconds. */
  max_expiration: number;
}

/** `configuration.translation`. */
export interface Translation {
  /** Whether statuses can be translated. */
  enabled: boolean;
}

/** `configuration.timelines_access`: who may read which feeds. */
export interface TimelinesAccess {
  /** The public and local timelines. */
  live_feeds: FeedAccess;
  /** Tag timelines. */
  hashtag_feeds: FeedAccess;
  /** Trending-link timelines. */
  trending_link_feeds: FeedAccess;
}

/**
 * Who may read a kind of feed, for local and remote content: `public`, `authenticated` or
 * `disabled`.
 */
export interface FeedAccess {
  /** Local content. */
  local: string;
  /** Remote content. */
  remote: string;
}

/** `GET /api/v1/instance`: the older shape, still read by many clients. */
export interface InstanceV1 {
  /** The domain. */
  uri: string;
  /** Name. */
  title: string;
  /** Short description. */
  short_description: string;
  /** Description. */
  description: string;
  /** Contact e-mail. */
  email: string;
  /** Version string. */
  version: string;
  /** URLs. */
  urls: InstanceUrlsV1;
  /** Counts. */
  stats: InstanceStats;
  /** Banner image URL. */
  thumbnail: string;
  /** Primary languages. */
  languages: string[];
  /** Open for sign-ups. */
  registrations: boolean;
  /** Sign-ups need approval. */
  approval_required: boolean;
  /** Invitations are enabled. */
  invites_enabled: boolean;
  /** Limits. */
  configuration: InstanceConfigurationV1;
  /** Contact account. */
  contact_account: Account | null;
  /** Server rules. */
  rules: Rule[];
}

/** `urls` of the v1 instance. */
export interface InstanceUrlsV1 {
  /** Base URL of the streaming API. */
  streaming_api: string;
}

/** `stats` of the v1 instance. */
export interface InstanceStats {
  /** Users. */
  user_count: number;
  /** Statuses. */
  status_count: number;
  /** Known other domains. */
  domain_count: number;
}

/** `configuration` of the v1 instance. */
export interface InstanceConfigurationV1 {
  /** Account limits. */
  accounts: AccountLimitsV1;
  /** Status limits. */
  statuses: StatusLimits;
  /** Upload limits. */
  media_attachments: MediaLimits;
  /** Poll limits. */
  polls: PollLimits;
}

/** `GET /.well-known/oauth-authorization-server` (RFC 8414). */
export interface OAuthServerMetadata {
  /** The issuer, the server's base URL with a trailing slash. */
  issuer: string;
  /** Where the API is documented. */
  service_documentation: string;
  /** `/oauth/authorize`. */
  authorization_endpoint: string;
  /** `/oauth/token`. */
  token_endpoint: string;
  /** `/oauth/revoke`. */
  revocation_endpoint: string;
  /** `/api/v1/apps`. */
  app_registration_endpoint: string;
  /** Every scope. */
  scopes_supported: string[];
  /** `code`. */
  response_types_supported: string[];
  /** How the authorization response is returned. */
  response_modes_supported: string[];
  /** PKCE methods. */
  code_challenge_methods_supported: string[];
  /** Grant types the token endpoint takes. */
  grant_types_supported: string[];
  /** How clients authenticate at the token endpoint. */
  token_endpoint_auth_methods_supported: string[];
}

/** `GET /.well-known/nodeinfo`: where the NodeInfo documents are. */
export interface NodeInfoLinks {
  /** One link per schema version. */
  links: NodeInfoLink[];
}

/** A NodeInfo document's schema and address. */
export interface NodeInfoLink {
  /** The schema, e.g. `http://nodeinfo.diaspora.software/ns/schema/2.0`. */
  rel: string;
  /** Where the document is. */
  href: string;
}

/** `GET /nodeinfo/2.0`. */
export interface NodeInfo {
  /** `2.0`. */
  version: string;
  /** The server software. */
  software: NodeInfoSoftware;
  /** Federation protocols. */
  protocols: string[];
  /** Third-party services. */
  services: NodeInfoServices;
  /** Counts. */
  usage: NodeInfoUsage;
  /** Open for sign-ups. */
  openRegistrations: boolean;
  /** Free-form metadata. */
  metadata: NodeInfoMetadata;
}

/** A piece of software and its version. */
export interface NodeInfoSoftware {
  /** Its name. */
  name: string;
  /** Its version. */
  version: string;
}

/** Third-party services the server reads from and writes to. */
export interface NodeInfoServices {
  /** Services it publishes to. */
  outbound: string[];
  /** Services it reads from. */
  inbound: string[];
}

/** NodeInfo counts. */
export interface NodeInfoUsage {
  /** User counts. */
  users: NodeInfoUsers;
  /** Statuses posted here. */
  localPosts: number;
}

/** NodeInfo user counts. */
export interface NodeInfoUsers {
  /** All users. */
  total: number;
  /** Active in the last month. */
  activeMonth: number;
  /** Active in the last six months. */
  activeHalfyear: number;
}

/** NodeInfo metadata. */
export interface NodeInfoMetadata {
  /** The instance's name. */
  nodeName: string;
  /**
   * The software whose API this one implements: libraries that detect server software accept
   * a Mastodon-API implementation by it, as they do Mastodon's forks.
   */
  upstream: NodeInfoSoftware;
}

/** `GET /api/starling/v1/revocations`: ids of revoked tokens that have not expired yet. */
export interface Revocations {
  /** Token ids (`jti`). */
  revoked: string[];
}

/**
 * `GET /api/starling/v1/timelines/home/version`: changes whenever the caller's home gains or
 * loses entries; the edge validates its cached pages with it.
 */
export interface HomeVersion {
  /** The version, as a decimal string. */
  version: string;
}
