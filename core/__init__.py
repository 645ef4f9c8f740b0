"""Pure business rules of mailmarket: no I/O, no clock, no framework."""
