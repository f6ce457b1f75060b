"""Conference scheduling: venues and rooms, staff time, meetings, bookings without double booking, outcomes."""
