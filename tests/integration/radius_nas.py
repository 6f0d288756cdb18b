"""A NAS that answers CoA-Requests, for the radius_coa driver's tests (pyrad's server).

    radius_nas.py PORT SECRET LOG

Every request's attributes go to LOG as a JSON line. User "ghost" gets a CoA-NAK with
Error-Cause 503 (Session-Context-Not-Found), as a NAS does for a session it does not have;
user "mute" gets no answer at all.
"""

from __future__ import annotations

import json
import sys
from importlib import resources

from pyrad import packet, server
from pyrad.dictionary import Dictionary


class Nas(server.Server):
    def __init__(self, port: int, secret: bytes, log: str) -> None:
        dictionary = Dictionary(str(resources.files("nmsquota") / "data" / "radius.dictionary"))
        hosts = {"127.0.0.1": server.RemoteHost("127.0.0.1", secret, "nq")}
        super().__init__(addresses=["127.0.0.1"], coaport=port, dict=dictionary, hosts=hosts,
                         auth_enabled=False, acct_enabled=False, coa_enabled=True)  # fmt: skip
        self.log = log

    def HandleCoaPacket(self, pkt: packet.Packet) -> None:
        attributes = {str(key): [str(v) for v in pkt[key]] for key in pkt.keys()}  # noqa: SIM118
        with open(self.log, "a") as handle:
            handle.write(json.dumps(attributes) + "\n")
        user = attributes.get("User-Name", [""])[0]
        if user == "mute":
            return
        reply = self.CreateReplyPacket(pkt)
        if user == "ghost":
            reply.code = packet.CoANAK
            reply["Error-Cause"] = 503
        else:
            reply.code = packet.CoAACK
        self.SendReplyPacket(pkt.fd, reply)


if __name__ == "__main__":
    nas = Nas(int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3])
    print("ready", flush=True)
    nas.Run()
