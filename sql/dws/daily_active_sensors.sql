-- dws.daily_active_sensors: per local day in ${time_zone}, the distinct sensors with at least one
-- valid event (the seed's dws_activeuser pattern). DWD has already dropped error codes and
-- impossible values, so a sensor that only sent those is not active.
--
-- segment is the one of the sensor's last event of the day, should a sensor ever move.
-- first_seen / last_seen are UTC instants (timestamp without zone), like dwd.event_time.
SELECT
    sensor_id,
    max_by(segment, event_time) AS segment,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen,
    count(*) AS events,
    year,
    month,
    day
FROM ${dwd_database}.traffic_events
WHERE ${event_day_partitions}
GROUP BY sensor_id, year, month, day
