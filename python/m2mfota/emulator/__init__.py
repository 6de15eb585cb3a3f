"""KPN Things emulator: the server side m2mfota devices talk to."""
