"""Hand-written SQL, in one place: each module names the ORM code it stands for."""
