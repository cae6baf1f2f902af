-- dwd.app_events: cleaned app actions, one row per user, action and event time, partitioned by
-- the event's LOCAL day in ${time_zone}.
--
-- Reads the ODS arrival days ${arrival_start_date}..${arrival_end_date} (UTC, daily batches): a
-- local day starts on the previous UTC day east of Greenwich, and uploads arrive up to a day
-- late. The predicate touches the partition columns only, so Athena prunes partitions.
--
-- Cleaning:
--   * dropped: no user id or no action (NULL or blank); an event time the Glue job could not
--     read (event_time_utc is the instant of event_time, ISO-8601 with the device's offset or,
--     without one, in ${app_activity_time_zone} as sql/sources.yaml declares; NULL when it is
--     not ISO-8601); an event time after the end of the UTC day its batch arrived (a device
--     clock set in the future: the action cannot have happened yet).
--   * action and device are trimmed and lower-cased, app_version trimmed, blanks become NULL;
--     country is trimmed and upper-cased and kept only as a two-letter code (else NULL).
--   * re-delivered actions (same user, action and instant, whatever offset it was written with)
--     are kept once: the earliest arrival day wins, ties broken by the values themselves, so the
--     choice is deterministic.
-- Only events whose local date is within ${start_date}..${end_date} are output.
--
-- event_time is the UTC instant as a timestamp without zone (Athena cannot write timestamp with
-- time zone to Parquet). Partition columns come last: the LOCAL date's zero-padded year, month,
-- day.
WITH arrived AS (
    SELECT
        nullif(trim(user_id), '') AS user_id,
        nullif(lower(trim(action)), '') AS action,
        nullif(lower(trim(device)), '') AS device,
        nullif(trim(app_version), '') AS app_version,
        upper(trim(country)) AS country,
        concat(year, '-', month, '-', day) AS arrival_day,
        -- the UTC instant as a timestamp: read in the session's zone, which is UTC on Athena
        -- (either engine), so AT TIME ZONE '<zone>' gives its wall clock in that zone
        event_time_utc AS event_instant
    FROM ${ods_database}.app_activity
    WHERE ${arrival_day_partitions}
),

valid AS (
    SELECT
        user_id,
        action,
        device,
        app_version,
        CASE WHEN regexp_like(country, '^[A-Z]{2}$') THEN country END AS country,
        arrival_day,
        CAST(event_instant AT TIME ZONE 'UTC' AS timestamp) AS event_time,
        date_format(event_instant AT TIME ZONE '${time_zone}', '%Y-%m-%d') AS local_day
    FROM arrived
    WHERE user_id IS NOT NULL
        AND action IS NOT NULL
        AND event_instant IS NOT NULL
        AND date_format(event_instant AT TIME ZONE 'UTC', '%Y-%m-%d') <= arrival_day
),

deliveries AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY user_id, action, event_time
            ORDER BY arrival_day, device, app_version, country
        ) AS delivery
    FROM valid
    WHERE local_day BETWEEN '${start_date}' AND '${end_date}'
)

SELECT
    user_id,
    action,
    event_time,
    device,
    app_version,
    country,
    substr(local_day, 1, 4) AS year,
    substr(local_day, 6, 2) AS month,
    substr(local_day, 9, 2) AS day
FROM deliveries
WHERE delivery = 1
