-- ads.segment_congestion_daily: per road segment and local day in ${time_zone}, how congested it
-- was. Reads the dwd.traffic_events and dws.daily_active_sensors partitions of
-- ${start_date}..${end_date} only.
--
--   sensors      active sensors of the segment that day (dws.daily_active_sensors)
--   events       valid sensor readings (sensor-minutes)
--   jam_minutes  readings with traffic_jam = 1 (sensor-minutes in a jam)
--   jam_share    jam_minutes / events, in 0..1
--   avg_speed    mean current_speed of the readings
--   worst_hour   local hour ('00'..'23') with the most jam minutes; ties go to the earliest hour;
--                NULL when the segment had no jam that day. On the day clocks go back, hour
--                '02' covers both of its UTC hours.
-- Readings without a segment belong to no report row and are left out.
WITH hourly AS (
    SELECT
        segment,
        year,
        month,
        day,
        hour,
        count(*) AS events,
        count_if(traffic_jam = 1) AS jam_minutes,
        sum(current_speed) AS speed_total
    FROM ${dwd_database}.traffic_events
    WHERE ${event_day_partitions}
        AND segment IS NOT NULL
    GROUP BY segment, year, month, day, hour
),

ranked_hours AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY segment, year, month, day ORDER BY jam_minutes DESC, hour
        ) AS jam_rank
    FROM hourly
),

daily AS (
    SELECT
        segment,
        year,
        month,
        day,
        sum(events) AS events,
        sum(jam_minutes) AS jam_minutes,
        CAST(sum(speed_total) AS double) / sum(events) AS avg_speed,
        max(CASE WHEN jam_rank = 1 AND jam_minutes > 0 THEN hour END) AS worst_hour
    FROM ranked_hours
    GROUP BY segment, year, month, day
),

active AS (
    SELECT
        segment,
        year,
        month,
        day,
        count(*) AS sensors
    FROM ${dws_database}.daily_active_sensors
    WHERE ${event_day_partitions}
    GROUP BY segment, year, month, day
)

SELECT
    daily.segment,
    coalesce(active.sensors, 0) AS sensors,
    daily.events,
    daily.jam_minutes,
    CAST(daily.jam_minutes AS double) / daily.events AS jam_share,
    daily.avg_speed,
    daily.worst_hour,
    daily.year,
    daily.month,
    daily.day
FROM daily
LEFT JOIN active
    ON daily.segment = active.segment
    AND daily.year = active.year
    AND daily.month = active.month
    AND daily.day = active.day
