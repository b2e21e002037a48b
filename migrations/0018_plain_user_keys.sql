-- Issue 16: the keys of daily_user_dims' JSON get shorter. They were `dim:kind:HEX(value)`
-- ("event:0:417070204F70656E6564"), hex so that no value could spell a JSON path; now a letter per field, the kind,
-- and the value as it is after '=' when it has no character outside [A-Za-z0-9 ._-] ("e0=App Opened"), else as hex
-- after '#' (rollups/dims.py: user_key_of spells the same expression; tests/test_migrations.py checks both agree on
-- hostile values). The keys were half of the table, which took 33 bytes per event of the reference app (18 since).
-- One row written per user and day held (raw events are kept 30 days: for the reference app ~30,000). Rows already
-- in the new form have no ':' between a field and a kind digit, and are left alone: applied twice it changes nothing.
UPDATE daily_user_dims SET dims = (
  SELECT json_group_object(
    CASE d WHEN 'platform' THEN 'p' WHEN 'app_version' THEN 'v' WHEN 'country' THEN 'c' WHEN 'event' THEN 'e'
      WHEN 'group' THEN 'g' ELSE d || ':' END || k
      || CASE WHEN v GLOB '*[^A-Za-z0-9 ._-]*' THEN '#' || hex(v) ELSE '=' || v END, n)
  FROM (SELECT substr(j.key, 1, instr(j.key, ':') - 1) AS d, substr(j.key, instr(j.key, ':') + 1, 1) AS k,
          CAST(unhex(substr(j.key, instr(j.key, ':') + 3)) AS TEXT) AS v, j.value AS n
        FROM json_each(daily_user_dims.dims) AS j))
WHERE dims GLOB '*:[0-9]:*';
