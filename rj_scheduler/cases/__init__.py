"""Cases: referrals, parties, consent, safe contact, the case journey and the team's caseload."""
