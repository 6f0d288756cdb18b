"""The paper's remote rate limiter, `limit`, as `nmsquota limitd`: a line protocol with a
one-time challenge-response login, applying limits through a local driver."""
