-- The two GIN indexes that patient name searches read (patients_name_trgm, patients_name_keys)
-- were built with GIN's default fastupdate = on: a new or renamed patient's keys go to a pending
-- list, merged into the index only by vacuum, autoanalyze or once the list passes
-- gin_pending_list_limit (4 MB). Every search scans the whole pending list first, whichever
-- clinic asks (the list is not per clinic). After 100k patients were inserted the lists held
-- 494 and 374 pages, and a rare three-word name took 1.12 ms in Postgres instead of 0.20 ms
-- (389 buffers instead of 33): docs/performance.md, scenario 9, "GIN pending lists".
--
-- Patients are written far less often than they are searched, so their keys go straight into
-- the index. audit_log_patient_ids keeps fastupdate: audit_log is written on every access and
-- searched only for an LGPD export.
alter index public.patients_name_trgm set (fastupdate = off);
alter index public.patients_name_keys set (fastupdate = off);
-- Turning fastupdate off does not merge what is already pending.
select pg_catalog.gin_clean_pending_list('public.patients_name_trgm'::regclass);
select pg_catalog.gin_clean_pending_list('public.patients_name_keys'::regclass);
