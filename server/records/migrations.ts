import type { Dialect } from './records-client.ts';

/**
 * One step of the records schema. Versions are 1, 2, 3, … in array order; a shipped migration
 * is never edited, a change is a new entry at the end. `sql` is one text for every dialect, or
 * the text of each dialect where they differ (types, identity columns, collations).
 */
export interface Migration {
  version: number;
  name: string;
  sql: string | { readonly [D in Dialect]?: string };
  /**
   * SQLite only: the migration rebuilds tables (SQLite cannot alter a CHECK constraint), so it runs
   * with foreign keys off and is checked with `foreign_key_check` before it commits.
   */
  rebuildsTables?: boolean;
}

/** The SQL of a migration for a dialect; a migration without it cannot run there. */
export function migrationSql(m: Migration, dialect: Dialect): string {
  const sql = typeof m.sql === 'string' ? m.sql : m.sql[dialect];
  if (sql === undefined) throw new Error(`migration ${m.version} (${m.name}) has no SQL for ${dialect}`);
  return sql;
}

const list = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');

const WORK_ORDER_SOURCES = ['alarm', 'manual', 'complaint', 'inspection', 'handover'];
const WORK_ORDER_CATEGORIES = ['fire-safety', 'water-leak', 'electrical', 'access-security', 'general', 'complaint'];
const WORK_ORDER_PRIORITIES = ['critical', 'high', 'medium', 'low'];
const WORK_ORDER_STATES = ['open', 'acknowledged', 'in_progress', 'resolved', 'callback_done', 'closed', 'reopened'];
const USER_ROLES = ['administrator', 'engineer', 'service-desk', 'viewer'];

// Migration 5: lifts and water supply, quality checks and internal verification, supervisors and managers.
const WORK_ORDER_CATEGORIES_5 = ['fire-safety', 'lift', 'access-security', 'water-leak', 'water-supply', 'electrical', 'general', 'complaint'];
const WORK_ORDER_STATES_5 = ['open', 'acknowledged', 'in_progress', 'resolved', 'quality_checked', 'callback_done', 'verified', 'closed', 'reopened'];
const USER_ROLES_5 = [...USER_ROLES, 'service-supervisor', 'engineering-supervisor', 'estate-manager', 'property-manager'];
const WORK_ORDER_COLUMNS_1 = [
  'id', 'source', 'source_ref', 'category', 'priority', 'state', 'title', 'detail', 'building', 'unit', 'device_id', 'rule_id', 'reporter',
  'created_by', 'assignee_user_id', 'assignee_team_id', 'created_at', 'updated_at', 'acknowledged_at', 'started_at', 'resolved_at',
  'leak_test_at', 'callback_at', 'callback_outcome', 'closed_at', 'reopened_at', 'response_due_at', 'callback_due_at', 'repair_item',
  'cost_cents', 'occurrences', 'last_occurrence_at', 'reopen_count',
];
const HOURS_72 = 72 * 3_600_000;
const DAYS_2 = 2 * 86_400_000;

/** The columns migration 5 adds to work_orders, in order, for one dialect's integer type of ids and times. */
const workOrderColumns5 = (big: string) => `
          people_trapped INTEGER NOT NULL DEFAULT 0,
          complaint_type TEXT CHECK (complaint_type IN ('valid', 'help', 'enquiry', 'venting')),
          follow_up TEXT NOT NULL DEFAULT 'callback' CHECK (follow_up IN ('callback', 'verification')),
          resolved_by ${big} REFERENCES users (id),
          quality_checked_at ${big},
          quality_checked_by ${big} REFERENCES users (id),
          callback_attempts INTEGER NOT NULL DEFAULT 0,
          satisfaction TEXT CHECK (satisfaction IN ('satisfied', 'basically-satisfied', 'dissatisfied')),
          verified_at ${big},
          reply_due_at ${big},
          replied_at ${big},
          escalation_level INTEGER NOT NULL DEFAULT 0 CHECK (escalation_level BETWEEN 0 AND 3),
          escalated_at ${big},
          response_escalated_for ${big},
          reply_escalated_for ${big},
          callback_escalated_for ${big}`;

/**
 * What migration 5 makes of a work order of before it: work with no owner (alarms, inspection
 * findings) is verified instead of called back; a complaint owes a reply 72 hours after it was made
 * (a callback made counts as one) and its callback is due 2 days after its repair, like other repairs.
 */
const MIGRATED_5 = {
  state: "CASE WHEN state = 'callback_done' AND source IN ('alarm', 'inspection') THEN 'verified' ELSE state END",
  callbackDueAt: `CASE WHEN category <> 'complaint' THEN callback_due_at WHEN resolved_at IS NULL THEN NULL ELSE resolved_at + ${DAYS_2} END`,
  followUp: "CASE WHEN source IN ('alarm', 'inspection') THEN 'verification' ELSE 'callback' END",
  replyDueAt: `CASE WHEN source = 'complaint' THEN created_at + ${HOURS_72} ELSE NULL END`,
  repliedAt: "CASE WHEN source = 'complaint' THEN callback_at ELSE NULL END",
};

// Literal value lists on purpose: a migration describes the schema as it was shipped and must not
// change when the domain's TypeScript constants grow.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users, teams, work orders and their timeline',
    sql: {
      sqlite: `
        CREATE TABLE users (
          id INTEGER PRIMARY KEY,
          username TEXT NOT NULL COLLATE NOCASE UNIQUE,
          display_name TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN (${list(USER_ROLES)})),
          password_hash TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );

        CREATE TABLE teams (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          created_at INTEGER NOT NULL
        );

        CREATE TABLE team_members (
          team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
          user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          PRIMARY KEY (team_id, user_id)
        ) WITHOUT ROWID;

        CREATE TABLE work_orders (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          source TEXT NOT NULL CHECK (source IN (${list(WORK_ORDER_SOURCES)})),
          source_ref TEXT,
          category TEXT NOT NULL CHECK (category IN (${list(WORK_ORDER_CATEGORIES)})),
          priority TEXT NOT NULL CHECK (priority IN (${list(WORK_ORDER_PRIORITIES)})),
          state TEXT NOT NULL CHECK (state IN (${list(WORK_ORDER_STATES)})),
          title TEXT NOT NULL,
          detail TEXT NOT NULL DEFAULT '',
          building TEXT NOT NULL,
          unit TEXT,
          device_id TEXT,
          rule_id TEXT,
          reporter TEXT,
          created_by INTEGER REFERENCES users (id),
          assignee_user_id INTEGER REFERENCES users (id),
          assignee_team_id INTEGER REFERENCES teams (id),
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          acknowledged_at INTEGER,
          started_at INTEGER,
          resolved_at INTEGER,
          leak_test_at INTEGER,
          callback_at INTEGER,
          callback_outcome TEXT CHECK (callback_outcome IN ('satisfied', 'problem')),
          closed_at INTEGER,
          reopened_at INTEGER,
          response_due_at INTEGER NOT NULL,
          callback_due_at INTEGER,
          repair_item TEXT,
          cost_cents INTEGER CHECK (cost_cents >= 0),
          occurrences INTEGER NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
          last_occurrence_at INTEGER NOT NULL,
          reopen_count INTEGER NOT NULL DEFAULT 0,
          CHECK (source != 'alarm' OR (device_id IS NOT NULL AND rule_id IS NOT NULL))
        );

        -- One work order per (device, rule) until it is closed: a repeating alarm adds occurrences.
        CREATE UNIQUE INDEX work_orders_one_open_per_device_rule ON work_orders (device_id, rule_id) WHERE state != 'closed';
        CREATE INDEX work_orders_state_category ON work_orders (state, category);
        CREATE INDEX work_orders_created ON work_orders (created_at);
        CREATE INDEX work_orders_building_created ON work_orders (building, created_at);
        CREATE INDEX work_orders_unit ON work_orders (unit) WHERE unit IS NOT NULL;
        CREATE INDEX work_orders_assignee_user ON work_orders (assignee_user_id) WHERE assignee_user_id IS NOT NULL;
        CREATE INDEX work_orders_assignee_team ON work_orders (assignee_team_id) WHERE assignee_team_id IS NOT NULL;
        CREATE INDEX work_orders_response_due ON work_orders (response_due_at) WHERE state IN ('open', 'reopened');
        CREATE INDEX work_orders_callback_due ON work_orders (callback_due_at)
          WHERE callback_due_at IS NOT NULL AND state NOT IN ('callback_done', 'closed');

        CREATE TABLE work_order_events (
          id INTEGER PRIMARY KEY,
          work_order_id INTEGER NOT NULL REFERENCES work_orders (id) ON DELETE CASCADE,
          at INTEGER NOT NULL,
          by_user_id INTEGER REFERENCES users (id),
          action TEXT NOT NULL,
          from_state TEXT,
          to_state TEXT NOT NULL,
          comment TEXT,
          details TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX work_order_events_work_order ON work_order_events (work_order_id, id);
      `,
      postgres: `
        CREATE TABLE users (
          id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
          username TEXT NOT NULL,
          display_name TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN (${list(USER_ROLES)})),
          password_hash TEXT NOT NULL,
          created_at BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX users_username ON users (lower(username));

        CREATE TABLE teams (
          id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          created_at BIGINT NOT NULL
        );

        CREATE TABLE team_members (
          team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
          user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          PRIMARY KEY (team_id, user_id)
        );

        CREATE TABLE work_orders (
          id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
          source TEXT NOT NULL CHECK (source IN (${list(WORK_ORDER_SOURCES)})),
          source_ref TEXT,
          category TEXT NOT NULL CHECK (category IN (${list(WORK_ORDER_CATEGORIES)})),
          priority TEXT NOT NULL CHECK (priority IN (${list(WORK_ORDER_PRIORITIES)})),
          state TEXT NOT NULL CHECK (state IN (${list(WORK_ORDER_STATES)})),
          title TEXT NOT NULL,
          detail TEXT NOT NULL DEFAULT '',
          building TEXT NOT NULL,
          unit TEXT,
          device_id TEXT,
          rule_id TEXT,
          reporter TEXT,
          created_by BIGINT REFERENCES users (id),
          assignee_user_id BIGINT REFERENCES users (id),
          assignee_team_id BIGINT REFERENCES teams (id),
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL,
          acknowledged_at BIGINT,
          started_at BIGINT,
          resolved_at BIGINT,
          leak_test_at BIGINT,
          callback_at BIGINT,
          callback_outcome TEXT CHECK (callback_outcome IN ('satisfied', 'problem')),
          closed_at BIGINT,
          reopened_at BIGINT,
          response_due_at BIGINT NOT NULL,
          callback_due_at BIGINT,
          repair_item TEXT,
          cost_cents BIGINT CHECK (cost_cents >= 0),
          occurrences INTEGER NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
          last_occurrence_at BIGINT NOT NULL,
          reopen_count INTEGER NOT NULL DEFAULT 0,
          CHECK (source <> 'alarm' OR (device_id IS NOT NULL AND rule_id IS NOT NULL))
        );

        CREATE UNIQUE INDEX work_orders_one_open_per_device_rule ON work_orders (device_id, rule_id) WHERE state <> 'closed';
        CREATE INDEX work_orders_state_category ON work_orders (state, category);
        CREATE INDEX work_orders_created ON work_orders (created_at);
        CREATE INDEX work_orders_building_created ON work_orders (building, created_at);
        CREATE INDEX work_orders_unit ON work_orders (unit) WHERE unit IS NOT NULL;
        CREATE INDEX work_orders_assignee_user ON work_orders (assignee_user_id) WHERE assignee_user_id IS NOT NULL;
        CREATE INDEX work_orders_assignee_team ON work_orders (assignee_team_id) WHERE assignee_team_id IS NOT NULL;
        CREATE INDEX work_orders_response_due ON work_orders (response_due_at) WHERE state IN ('open', 'reopened');
        CREATE INDEX work_orders_callback_due ON work_orders (callback_due_at)
          WHERE callback_due_at IS NOT NULL AND state NOT IN ('callback_done', 'closed');

        CREATE TABLE work_order_events (
          id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
          work_order_id BIGINT NOT NULL REFERENCES work_orders (id) ON DELETE CASCADE,
          at BIGINT NOT NULL,
          by_user_id BIGINT REFERENCES users (id),
          action TEXT NOT NULL,
          from_state TEXT,
          to_state TEXT NOT NULL,
          comment TEXT,
          details TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX work_order_events_work_order ON work_order_events (work_order_id, id);
      `,
    },
  },
  {
    version: 2,
    name: 'login sessions',
    sql: {
      sqlite: `
        -- Only a SHA-256 of the bearer token is kept: a copy of the file does not log anyone in.
        CREATE TABLE sessions (
          token_hash TEXT PRIMARY KEY,
          user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          created_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          ip TEXT
        ) WITHOUT ROWID;
        CREATE INDEX sessions_user ON sessions (user_id);
        CREATE INDEX sessions_expires ON sessions (expires_at);
      `,
      postgres: `
        CREATE TABLE sessions (
          token_hash TEXT PRIMARY KEY,
          user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          created_at BIGINT NOT NULL,
          expires_at BIGINT NOT NULL,
          ip TEXT
        );
        CREATE INDEX sessions_user ON sessions (user_id);
        CREATE INDEX sessions_expires ON sessions (expires_at);
      `,
    },
  },
  {
    version: 3,
    name: 'alarms, pending rule timers and shelves',
    // IF NOT EXISTS: before this migration the alarm store created these tables itself, in this shape.
    sql: {
      sqlite: `
        CREATE TABLE IF NOT EXISTS alarms (
          id TEXT PRIMARY KEY,
          key TEXT NOT NULL,
          state TEXT NOT NULL,
          device TEXT NOT NULL,
          building TEXT NOT NULL,
          category TEXT NOT NULL,
          raised_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          body TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS alarms_open ON alarms (key) WHERE state != 'cleared';
        CREATE INDEX IF NOT EXISTS alarms_raised ON alarms (raised_at);
        CREATE INDEX IF NOT EXISTS alarms_device_raised ON alarms (device, raised_at);

        CREATE TABLE IF NOT EXISTS alarm_timers (
          rule_id TEXT NOT NULL,
          device TEXT NOT NULL,
          instance TEXT NOT NULL,
          phase TEXT NOT NULL CHECK (phase IN ('on-delay', 'off-delay')),
          since INTEGER NOT NULL,
          due INTEGER NOT NULL,
          PRIMARY KEY (rule_id, device, instance)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS alarm_shelves (
          key TEXT PRIMARY KEY,
          shelved_by TEXT NOT NULL,
          reason TEXT NOT NULL,
          shelved_at INTEGER NOT NULL,
          until INTEGER NOT NULL
        ) WITHOUT ROWID;
      `,
      postgres: `
        CREATE TABLE alarms (
          id TEXT PRIMARY KEY,
          key TEXT NOT NULL,
          state TEXT NOT NULL,
          device TEXT NOT NULL,
          building TEXT NOT NULL,
          category TEXT NOT NULL,
          raised_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL,
          body TEXT NOT NULL
        );
        CREATE INDEX alarms_open ON alarms (key) WHERE state <> 'cleared';
        CREATE INDEX alarms_raised ON alarms (raised_at);
        CREATE INDEX alarms_device_raised ON alarms (device, raised_at);

        CREATE TABLE alarm_timers (
          rule_id TEXT NOT NULL,
          device TEXT NOT NULL,
          instance TEXT NOT NULL,
          phase TEXT NOT NULL CHECK (phase IN ('on-delay', 'off-delay')),
          since BIGINT NOT NULL,
          due BIGINT NOT NULL,
          PRIMARY KEY (rule_id, device, instance)
        );

        CREATE TABLE alarm_shelves (
          key TEXT PRIMARY KEY,
          shelved_by TEXT NOT NULL,
          reason TEXT NOT NULL,
          shelved_at BIGINT NOT NULL,
          until BIGINT NOT NULL
        );
      `,
    },
  },
  {
    version: 4,
    name: 'the reading and limit that started a pending rule timer',
    // NULL in rows written before: the alarm such a timer raises has no value until a reading comes.
    sql: {
      sqlite: `
        ALTER TABLE alarm_timers ADD COLUMN value REAL;
        ALTER TABLE alarm_timers ADD COLUMN rule_limit REAL;
      `,
      postgres: `
        ALTER TABLE alarm_timers ADD COLUMN value DOUBLE PRECISION;
        ALTER TABLE alarm_timers ADD COLUMN rule_limit DOUBLE PRECISION;
      `,
    },
  },
  {
    version: 5,
    name: 'lifts and water supply, complaint replies, quality checks, verification, escalation, supervisors and managers, notifications',
    rebuildsTables: true,
    sql: {
      sqlite: `
        CREATE TABLE users_new (
          id INTEGER PRIMARY KEY,
          username TEXT NOT NULL COLLATE NOCASE UNIQUE,
          display_name TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN (${list(USER_ROLES_5)})),
          password_hash TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
        INSERT INTO users_new (id, username, display_name, role, password_hash, created_at)
          SELECT id, username, display_name, role, password_hash, created_at FROM users;
        DROP TABLE users;
        ALTER TABLE users_new RENAME TO users;

        CREATE TABLE work_orders_new (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          source TEXT NOT NULL CHECK (source IN (${list(WORK_ORDER_SOURCES)})),
          source_ref TEXT,
          category TEXT NOT NULL CHECK (category IN (${list(WORK_ORDER_CATEGORIES_5)})),
          priority TEXT NOT NULL CHECK (priority IN (${list(WORK_ORDER_PRIORITIES)})),
          state TEXT NOT NULL CHECK (state IN (${list(WORK_ORDER_STATES_5)})),
          title TEXT NOT NULL,
          detail TEXT NOT NULL DEFAULT '',
          building TEXT NOT NULL,
          unit TEXT,
          device_id TEXT,
          rule_id TEXT,
          reporter TEXT,
          created_by INTEGER REFERENCES users (id),
          assignee_user_id INTEGER REFERENCES users (id),
          assignee_team_id INTEGER REFERENCES teams (id),
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          acknowledged_at INTEGER,
          started_at INTEGER,
          resolved_at INTEGER,
          leak_test_at INTEGER,
          callback_at INTEGER,
          callback_outcome TEXT CHECK (callback_outcome IN ('satisfied', 'problem')),
          closed_at INTEGER,
          reopened_at INTEGER,
          response_due_at INTEGER NOT NULL,
          callback_due_at INTEGER,
          repair_item TEXT,
          cost_cents INTEGER CHECK (cost_cents >= 0),
          occurrences INTEGER NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
          last_occurrence_at INTEGER NOT NULL,
          reopen_count INTEGER NOT NULL DEFAULT 0,${workOrderColumns5('INTEGER')},
          CHECK (source != 'alarm' OR (device_id IS NOT NULL AND rule_id IS NOT NULL))
        );
        INSERT INTO work_orders_new (${WORK_ORDER_COLUMNS_1.join(', ')}, follow_up, reply_due_at, replied_at)
          SELECT ${WORK_ORDER_COLUMNS_1.map((c) => (c === 'state' ? MIGRATED_5.state : c === 'callback_due_at' ? MIGRATED_5.callbackDueAt : c)).join(', ')},
            ${MIGRATED_5.followUp}, ${MIGRATED_5.replyDueAt}, ${MIGRATED_5.repliedAt}
          FROM work_orders;
        -- Ids keep counting from where they were.
        DELETE FROM sqlite_sequence WHERE name = 'work_orders_new';
        INSERT INTO sqlite_sequence (name, seq) SELECT 'work_orders_new', seq FROM sqlite_sequence WHERE name = 'work_orders';
        DROP TABLE work_orders;
        ALTER TABLE work_orders_new RENAME TO work_orders;

        CREATE UNIQUE INDEX work_orders_one_open_per_device_rule ON work_orders (device_id, rule_id) WHERE state != 'closed';
        CREATE INDEX work_orders_state_category ON work_orders (state, category);
        CREATE INDEX work_orders_created ON work_orders (created_at);
        CREATE INDEX work_orders_building_created ON work_orders (building, created_at);
        CREATE INDEX work_orders_unit ON work_orders (unit) WHERE unit IS NOT NULL;
        CREATE INDEX work_orders_assignee_user ON work_orders (assignee_user_id) WHERE assignee_user_id IS NOT NULL;
        CREATE INDEX work_orders_assignee_team ON work_orders (assignee_team_id) WHERE assignee_team_id IS NOT NULL;
        CREATE INDEX work_orders_response_due ON work_orders (response_due_at) WHERE state IN ('open', 'reopened');
        CREATE INDEX work_orders_callback_due ON work_orders (callback_due_at)
          WHERE callback_due_at IS NOT NULL AND state NOT IN ('callback_done', 'verified', 'closed');
        CREATE INDEX work_orders_reply_due ON work_orders (reply_due_at) WHERE reply_due_at IS NOT NULL AND replied_at IS NULL;
        CREATE INDEX work_order_events_at ON work_order_events (at, action);

        CREATE TABLE notifications (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          work_order_id INTEGER NOT NULL REFERENCES work_orders (id) ON DELETE CASCADE,
          event_id INTEGER REFERENCES work_order_events (id) ON DELETE CASCADE,
          kind TEXT NOT NULL CHECK (kind IN ('escalation', 'emergency-page')),
          details TEXT NOT NULL DEFAULT '{}',
          created_at INTEGER NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          next_attempt_at INTEGER NOT NULL,
          delivered_at INTEGER,
          failed_at INTEGER,
          last_error TEXT
        );
        CREATE INDEX notifications_pending ON notifications (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
      `,
      postgres: `
        ALTER TABLE users DROP CONSTRAINT users_role_check;
        ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN (${list(USER_ROLES_5)}));

        ALTER TABLE work_orders DROP CONSTRAINT work_orders_category_check;
        ALTER TABLE work_orders ADD CONSTRAINT work_orders_category_check CHECK (category IN (${list(WORK_ORDER_CATEGORIES_5)}));
        ALTER TABLE work_orders DROP CONSTRAINT work_orders_state_check;
        ALTER TABLE work_orders ADD CONSTRAINT work_orders_state_check CHECK (state IN (${list(WORK_ORDER_STATES_5)}));
        ${workOrderColumns5('BIGINT')
          .trim()
          .split(',\n')
          .map((column) => `ALTER TABLE work_orders ADD COLUMN ${column.trim()};`)
          .join('\n        ')}
        UPDATE work_orders SET
          state = ${MIGRATED_5.state},
          callback_due_at = ${MIGRATED_5.callbackDueAt},
          follow_up = ${MIGRATED_5.followUp},
          reply_due_at = ${MIGRATED_5.replyDueAt},
          replied_at = ${MIGRATED_5.repliedAt};

        DROP INDEX work_orders_callback_due;
        CREATE INDEX work_orders_callback_due ON work_orders (callback_due_at)
          WHERE callback_due_at IS NOT NULL AND state NOT IN ('callback_done', 'verified', 'closed');
        CREATE INDEX work_orders_reply_due ON work_orders (reply_due_at) WHERE reply_due_at IS NOT NULL AND replied_at IS NULL;
        CREATE INDEX work_order_events_at ON work_order_events (at, action);

        CREATE TABLE notifications (
          id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
          work_order_id BIGINT NOT NULL REFERENCES work_orders (id) ON DELETE CASCADE,
          event_id BIGINT REFERENCES work_order_events (id) ON DELETE CASCADE,
          kind TEXT NOT NULL CHECK (kind IN ('escalation', 'emergency-page')),
          details TEXT NOT NULL DEFAULT '{}',
          created_at BIGINT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          next_attempt_at BIGINT NOT NULL,
          delivered_at BIGINT,
          failed_at BIGINT,
          last_error TEXT
        );
        CREATE INDEX notifications_pending ON notifications (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
      `,
    },
  },
  {
    version: 6,
    name: 'one work order per alarm point (a fire zone, a connection), alarm floods',
    sql: {
      sqlite: `
        -- '' for an alarm point without an instance, and for work orders not raised by an alarm.
        ALTER TABLE work_orders ADD COLUMN alarm_instance TEXT NOT NULL DEFAULT '';
        DROP INDEX work_orders_one_open_per_device_rule;
        CREATE UNIQUE INDEX work_orders_one_open_per_alarm_point ON work_orders (device_id, rule_id, alarm_instance) WHERE state != 'closed';

        CREATE TABLE alarm_floods (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          started_at INTEGER NOT NULL,
          ended_at INTEGER,
          peak INTEGER NOT NULL,
          alarms INTEGER NOT NULL,
          grouped INTEGER NOT NULL
        );
        CREATE INDEX alarm_floods_started ON alarm_floods (started_at);
      `,
      postgres: `
        ALTER TABLE work_orders ADD COLUMN alarm_instance TEXT NOT NULL DEFAULT '';
        DROP INDEX work_orders_one_open_per_device_rule;
        CREATE UNIQUE INDEX work_orders_one_open_per_alarm_point ON work_orders (device_id, rule_id, alarm_instance) WHERE state <> 'closed';

        CREATE TABLE alarm_floods (
          id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
          started_at BIGINT NOT NULL,
          ended_at BIGINT,
          peak INTEGER NOT NULL,
          alarms INTEGER NOT NULL,
          grouped INTEGER NOT NULL
        );
        CREATE INDEX alarm_floods_started ON alarm_floods (started_at);
      `,
    },
  },
];
