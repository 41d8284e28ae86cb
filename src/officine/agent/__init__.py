"""The workstation's agent of the fleet: enrolment, the local queue of what is to be sent, the
events recorded since the last contact, the signed sending, the timer that runs it."""
