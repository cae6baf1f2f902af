-- dwd.traffic_events: cleaned sensor events, one row per sensor and event time, partitioned by
-- the event's LOCAL hour in ${time_zone}.
--
-- Reads the ODS arrival partitions ${arrival_start_date}..${arrival_end_date} (UTC). The
-- predicate touches the partition columns only, so Athena prunes partitions. The window starts a
-- day early because the rolling averages of the first minutes of ${start_date} need the readings
-- before local midnight, and ends a day late because late events arrive the next day.
--
-- Event time: record_timestamp_utc, the instant the Glue job read from record_timestamp with
-- the source's declared format and zone (${traffic_time_zone} for times without an offset;
-- sql/sources.yaml); NULL when it could not be read.
--
-- Cleaning:
--   * dropped: no sensor id; an event time the Glue job could not read (not ISO-8601);
--     current_speed NULL, negative or above 250 (251..255 are sensor error codes); occupancy
--     outside 0..100; a negative intensity. A NULL occupancy or intensity is kept as NULL
--     (missing, not impossible).
--   * previous_speed (the sensor's own report) is set to NULL when it is an error code or
--     negative, rather than dropping an otherwise valid reading.
--   * re-delivered events (same sensor and event time) are kept once: the earliest arrival
--     partition wins, ties broken by the values themselves, so the choice is deterministic.
--
-- Derived, per sensor in event-time order:
--   * avg_speed_3m / avg_speed_20m: mean current_speed of the events with event_time in
--     (t - 3 min, t] / (t - 20 min, t], the current event included. The frame is a RANGE on event
--     time in epoch milliseconds (event times have millisecond precision), so a missing minute
--     shortens the sample instead of stretching the window: 179999 ms back = strictly after t-3m.
--   * speed_change: +1 when current_speed rose by 20 km/h or more against the sensor's previous
--     valid reading, -1 when it fell by 20 or more, 0 otherwise (and for a sensor's first reading
--     since the last local hour of the day before ${start_date}).
-- The windows run over the output days plus the last local hour before them, not over the whole
-- read window: a third of the rows, and what the rolling windows need.
--   * traffic_jam: 1 when 0 <= avg_speed_3m <= 40 (both bounds inclusive), else 0.
-- Only events whose local date is within ${start_date}..${end_date} are output.
--
-- event_time is the UTC instant as a timestamp without zone (Athena cannot write timestamp with
-- time zone to Parquet). Partition columns come last, zero-padded strings of the LOCAL time: on
-- the day clocks go back, hour '02' holds two UTC hours.
WITH arrived AS (
    SELECT
        sensor_id,
        segment,
        current_speed,
        previous_speed,
        occupancy,
        intensity_class2,
        intensity_class3,
        intensity_class4,
        intensity_class5,
        concat(year, month, day, hour) AS arrival_hour,
        -- the UTC instant as a timestamp: read in the session's zone, which is UTC on Athena
        -- (either engine), so AT TIME ZONE '<zone>' gives its wall clock in that zone
        record_timestamp_utc AS event_instant
    FROM ${ods_database}.traffic
    WHERE ${arrival_day_partitions}
),

valid AS (
    SELECT
        sensor_id,
        segment,
        current_speed,
        CASE WHEN previous_speed BETWEEN 0 AND 250 THEN previous_speed END AS previous_speed,
        occupancy,
        intensity_class2,
        intensity_class3,
        intensity_class4,
        intensity_class5,
        arrival_hour,
        CAST(event_instant AT TIME ZONE 'UTC' AS timestamp) AS event_time,
        CAST(round(to_unixtime(event_instant) * 1000) AS bigint) AS event_ms,
        date_format(event_instant AT TIME ZONE '${time_zone}', '%Y-%m-%d-%H') AS local_hour
    FROM arrived
    WHERE sensor_id IS NOT NULL
        AND event_instant IS NOT NULL
        AND current_speed BETWEEN 0 AND 250
        AND (occupancy IS NULL OR occupancy BETWEEN 0 AND 100)
        AND (intensity_class2 IS NULL OR intensity_class2 >= 0)
        AND (intensity_class3 IS NULL OR intensity_class3 >= 0)
        AND (intensity_class4 IS NULL OR intensity_class4 >= 0)
        AND (intensity_class5 IS NULL OR intensity_class5 >= 0)
),

deliveries AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY sensor_id, event_time
            ORDER BY
                arrival_hour, segment, current_speed, previous_speed, occupancy,
                intensity_class2, intensity_class3, intensity_class4, intensity_class5
        ) AS delivery
    FROM valid
    -- Only the events the windows need: the output days, and the last local hour before them
    -- (the longest rolling window is 20 minutes; a local day always ends with hour 23).
    WHERE local_hour BETWEEN
        concat(date_format(date '${start_date}' - INTERVAL '1' DAY, '%Y-%m-%d'), '-23')
        AND concat('${end_date}', '-23')
),

measured AS (
    SELECT
        sensor_id,
        segment,
        event_time,
        current_speed,
        previous_speed,
        occupancy,
        intensity_class2,
        intensity_class3,
        intensity_class4,
        intensity_class5,
        local_hour,
        avg(current_speed) OVER (
            PARTITION BY sensor_id ORDER BY event_ms
            RANGE BETWEEN 179999 PRECEDING AND CURRENT ROW
        ) AS avg_speed_3m,
        avg(current_speed) OVER (
            PARTITION BY sensor_id ORDER BY event_ms
            RANGE BETWEEN 1199999 PRECEDING AND CURRENT ROW
        ) AS avg_speed_20m,
        lag(current_speed) OVER (PARTITION BY sensor_id ORDER BY event_ms) AS last_valid_speed
    FROM deliveries
    WHERE delivery = 1
)

SELECT
    sensor_id,
    segment,
    event_time,
    current_speed,
    previous_speed,
    occupancy,
    intensity_class2,
    intensity_class3,
    intensity_class4,
    intensity_class5,
    intensity_class2 + intensity_class3 + intensity_class4 + intensity_class5 AS vehicles,
    avg_speed_3m,
    avg_speed_20m,
    CASE
        WHEN current_speed - last_valid_speed >= 20 THEN 1
        WHEN last_valid_speed - current_speed >= 20 THEN -1
        ELSE 0
    END AS speed_change,
    CASE WHEN avg_speed_3m BETWEEN 0 AND 40 THEN 1 ELSE 0 END AS traffic_jam,
    substr(local_hour, 1, 4) AS year,
    substr(local_hour, 6, 2) AS month,
    substr(local_hour, 9, 2) AS day,
    substr(local_hour, 12, 2) AS hour
FROM measured
WHERE substr(local_hour, 1, 10) BETWEEN '${start_date}' AND '${end_date}'
