-- ads.app_version_adoption_daily: how far each app release has spread, per local day in
-- ${time_zone}: for every app version, the active users on it and what they did. Reads only the
-- dws.daily_active_users partitions of ${start_date}..${end_date}.
--
--   app_version      the version of the user's last event of the day; 'unknown' when the app
--                    did not report one
--   users            active users on that version that day
--   user_share       users / all active users of the day, in 0..1 (the day's shares sum to 1)
--   events           their actions that day, of every kind
--   events_per_user  events / users
--   purchasers       of those users, how many took the action 'purchase'
WITH user_days AS (
    SELECT
        user_id,
        coalesce(app_version, 'unknown') AS app_version,
        sum(events) AS events,
        max(CASE WHEN action = 'purchase' THEN 1 ELSE 0 END) AS purchased,
        year,
        month,
        day
    FROM ${dws_database}.daily_active_users
    WHERE ${event_day_partitions}
    GROUP BY user_id, coalesce(app_version, 'unknown'), year, month, day
)

SELECT
    app_version,
    count(*) AS users,
    CAST(count(*) AS double) / sum(count(*)) OVER (PARTITION BY year, month, day) AS user_share,
    sum(events) AS events,
    CAST(sum(events) AS double) / count(*) AS events_per_user,
    sum(purchased) AS purchasers,
    year,
    month,
    day
FROM user_days
GROUP BY app_version, year, month, day
