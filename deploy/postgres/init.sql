-- The orchestrator's own database beside Temporal's (created once, on an empty volume).
CREATE DATABASE orchestrator;
