-- An emit's foreign-key check finds the event by index, whatever the statistics say. Each
-- connection keeps one plan for the check that a delivery's event exists (webhook_deliveries ->
-- webhook_events), made the first time it runs. Made while the statistics counted webhook_events
-- empty (an ANALYZE of the emptied tables, by autovacuum after retention, say), that plan reads the
-- table sequentially, and keeps doing so for the whole statement or session: a burst of emits in
-- one statement then reads every earlier event for each new one. 10,000 events in one statement
-- took 4.2 s instead of 0.9 s and read 50,005,000 rows; the benchmark's 50,000 took 81 s instead
-- of 5 (docs/performance.md). With sequential scans off inside the function, the check is planned
-- as the index lookup it is.

alter function public.emit_webhook_event(uuid, text, jsonb, uuid) set enable_seqscan = off;
