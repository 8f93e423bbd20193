"""What an infection-control surveyor asks for: the cycle log (`log_export`: CSV, streamed;
`log_pdf`: the printable log) and the compliance findings (`compliance`)."""
