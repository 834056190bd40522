"""The ground floor: settings, domain errors and pure domain rules. Imports nothing of ours."""
