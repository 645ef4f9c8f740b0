"""cPanel UAPI (Email module): forwarders and mailboxes on the host's account."""
