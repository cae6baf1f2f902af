-- dws.daily_active_users: the active users of each local day in ${time_zone}, one row per user and
-- action they took that day (the classic dws_activeuser table: count(DISTINCT user_id) per day,
-- or per day and action, is a GROUP BY over it). Reads only the dwd.app_events partitions of
-- ${start_date}..${end_date}.
--
--   events                 the user's actions of that kind that day
--   first_seen, last_seen  UTC instants (timestamp without zone), like dwd.event_time
--   app_version, device,   the user's at their last event of the day, whatever its action, so a
--   country                user counts once per version, device or country on every row of the
--                          day; ties at the same instant go to the smallest action name
WITH events AS (
    SELECT
        user_id,
        action,
        event_time,
        device,
        app_version,
        country,
        year,
        month,
        day,
        row_number() OVER (
            PARTITION BY user_id, year, month, day
            ORDER BY event_time DESC, action, app_version, device, country
        ) AS recency
    FROM ${dwd_database}.app_events
    WHERE ${event_day_partitions}
),

latest AS (
    SELECT
        user_id,
        app_version,
        device,
        country,
        year,
        month,
        day
    FROM events
    WHERE recency = 1
)

SELECT
    events.user_id,
    events.action,
    count(*) AS events,
    min(events.event_time) AS first_seen,
    max(events.event_time) AS last_seen,
    latest.app_version,
    latest.device,
    latest.country,
    events.year,
    events.month,
    events.day
FROM events
INNER JOIN latest
    ON events.user_id = latest.user_id
    AND events.year = latest.year
    AND events.month = latest.month
    AND events.day = latest.day
GROUP BY
    events.user_id,
    events.action,
    latest.app_version,
    latest.device,
    latest.country,
    events.year,
    events.month,
    events.day
