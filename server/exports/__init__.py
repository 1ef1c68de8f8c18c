"""Pure export format builders (CSV, PDF, FHIR) for Steady check-ins."""
