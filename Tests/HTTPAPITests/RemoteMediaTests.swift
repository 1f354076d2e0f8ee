import Testing
@testable import HTTPAPI

/// The address rule of RemoteMedia's SSRF guard (IANA's special-purpose address registries), and name
/// resolution of the literal forms an attacker uses to hide a loopback address.
@Suite struct RemoteMediaTests {
    static let refused = [
        "0.0.0.0", "10.0.0.1", "100.64.0.1", "100.127.255.255", "127.0.0.1", "127.255.0.9", "169.254.169.254",
        "172.16.0.1", "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.168.1.1", "198.18.0.1", "198.19.255.1",
        "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.1.2.3", "240.0.0.1", "255.255.255.255",
        "::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "fc00::1", "fd12::3",
        "fe80::1", "febf::1", "fec0::1", "ff02::1", "2001:db8::1", "100::1",
    ]
    static let allowed = [
        "1.1.1.1", "8.8.8.8", "100.63.255.255", "100.128.0.1", "172.15.255.255", "172.32.0.1", "192.0.1.1",
        "192.169.0.1", "198.17.0.1", "198.20.0.1", "223.255.255.255",
        "2606:4700:4700::1111", "2a00:1450:4001::1", "::ffff:8.8.8.8", "64:ff9b::808:808", "101::1",
    ]

    @Test(arguments: refused)
    func specialPurposeAddressesAreNotPublic(_ literal: String) throws {
        let addresses = try RemoteMedia.resolve(literal)
        #expect(!addresses.isEmpty)
        for address in addresses { #expect(!RemoteMedia.isPublic(address), "\(literal) → \(RemoteMedia.format(address))") }
    }

    @Test(arguments: allowed)
    func globalAddressesArePublic(_ literal: String) throws {
        let addresses = try RemoteMedia.resolve(literal)
        #expect(addresses.count == 1)
        #expect(addresses.allSatisfy(RemoteMedia.isPublic))
    }

    /// inet_aton's forms of 127.0.0.1 resolve to loopback, so the rule sees through them.
    @Test(arguments: ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "localhost"])
    func disguisedLoopbackResolvesToLoopback(_ host: String) throws {
        let addresses = try RemoteMedia.resolve(host)
        #expect(!addresses.isEmpty)
        #expect(!addresses.contains(where: RemoteMedia.isPublic))
    }

    @Test func formatsBothFamilies() {
        #expect(RemoteMedia.format([127, 0, 0, 1]) == "127.0.0.1")
        #expect(RemoteMedia.format([UInt8](repeating: 0, count: 15) + [1]) == "::1")
    }
}
