-- dws.sensor_hourly: one row per sensor and hour of events, partitioned by the LOCAL hour in
-- ${time_zone}. Reads only the dwd.traffic_events partitions of ${start_date}..${end_date}
-- (local dates, the same partitioning), so a chunk never rescans history.
--
-- hour_start is the UTC start of the hour (timestamp without zone). It keeps the two hours of
-- the day clocks go back apart: both live in partition hour '02', as two rows. Local hours align
-- with UTC hours in zones with whole-hour offsets (all of Europe); in a zone with a half-hour
-- offset a local hour would span two hour_start rows.
--
-- jam_minutes counts events with traffic_jam = 1; sensors report once a minute, so an hour has
-- at most 60 of them. speed_changes_up/down count speed_change = +1 / -1.
SELECT
    sensor_id,
    date_trunc('hour', event_time) AS hour_start,
    max_by(segment, event_time) AS segment,
    count(*) AS events,
    avg(current_speed) AS avg_speed,
    min(current_speed) AS min_speed,
    max(current_speed) AS max_speed,
    count_if(traffic_jam = 1) AS jam_minutes,
    sum(vehicles) AS vehicles,
    count_if(speed_change = 1) AS speed_changes_up,
    count_if(speed_change = -1) AS speed_changes_down,
    year,
    month,
    day,
    hour
FROM ${dwd_database}.traffic_events
WHERE ${event_day_partitions}
GROUP BY sensor_id, date_trunc('hour', event_time), year, month, day, hour
