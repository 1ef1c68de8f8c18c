"""Export query parameters."""

from marshmallow import fields, validate

from server.checkins.schemas import DateRangeQuerySchema

FORMATS = ["csv", "pdf", "fhir"]


class ExportQuerySchema(DateRangeQuerySchema):
    """Format and inclusive range of an export."""

    start = fields.Date(
        data_key="from",
        metadata={
            "description": "First day (inclusive; 2000-01-01 or later); default 29 days "
            "before `to`. The range may cover at most 3653 days (10 years), and at most "
            "366 days for a PDF (longer: 422 naming `from` and `to`; use csv or fhir)."
        },
    )
    end = fields.Date(
        data_key="to",
        metadata={
            "description": "Last day (inclusive; at most a year after today); default "
            "today in the patient's time zone"
        },
    )
    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(FORMATS),
        metadata={
            "description": "csv (text/csv, default), pdf (application/pdf) or fhir "
            "(application/fhir+json, a FHIR R4 collection Bundle)"
        },
    )
