"""The preset dictionary of offline QR payloads (``VN2:``): common words of Vietnamese claims.

Deflate may copy strings from a dictionary both sides know (RFC 1951 back-references
into a preset window, zlib's ``zdict``; any inflater can use it: ``zlib`` in Python and C,
``java.util.zip.Inflater.setDictionary``, pako). Addresses, names and issuing authorities
are mostly the same few hundred words, so a long licence shrinks by about a third, which is
what lets a full licence with a 250-character address fit QR version 15 at level M.

The text is part of the format: changing one byte changes every payload, so a change
needs a new version prefix (``tests/documents/test_offline_size.py`` pins its digest).
Deflate codes near distances more cheaply, so the most frequent strings come last.
"""

from __future__ import annotations

__all__ = ["OFFLINE_DICTIONARY"]

_PROVINCES = (
    "Hà Nội, Hà Giang, Cao Bằng, Bắc Kạn, Tuyên Quang, Lào Cai, Điện Biên, Lai Châu, Sơn La, Yên Bái, "
    "Hòa Bình, Thái Nguyên, Lạng Sơn, Quảng Ninh, Bắc Giang, Phú Thọ, Vĩnh Phúc, Bắc Ninh, Hải Dương, "
    "Hải Phòng, Hưng Yên, Thái Bình, Hà Nam, Nam Định, Ninh Bình, Thanh Hóa, Nghệ An, Hà Tĩnh, Quảng Bình, "
    "Quảng Trị, Thừa Thiên Huế, Đà Nẵng, Quảng Nam, Quảng Ngãi, Bình Định, Phú Yên, Khánh Hòa, Ninh Thuận, "
    "Bình Thuận, Kon Tum, Gia Lai, Đắk Lắk, Đắk Nông, Lâm Đồng, Bình Phước, Tây Ninh, Bình Dương, Đồng Nai, "
    "Bà Rịa – Vũng Tàu, Hồ Chí Minh, Long An, Tiền Giang, Bến Tre, Trà Vinh, Vĩnh Long, Đồng Tháp, An Giang, "
    "Kiên Giang, Cần Thơ, Hậu Giang, Sóc Trăng, Bạc Liêu, Cà Mau"
)

_WORDS = (
    "Thị trấn Thị xã Tỉnh Huyện Xã Ấp Thôn Bản Buôn Làng Xóm Khu phố Tổ dân phố Tổ Khóm Khu tập thể "
    "Khu đô thị Khu dân cư Khu công nghiệp Căn hộ Chung cư Tòa nhà Tầng Phòng Lô Block Nhà Số nhà Kiệt Hẻm "
    "Ngách Ngõ Phố Đường Đại lộ Quốc lộ Tỉnh lộ tạm trú thường trú Nơi cư trú Nơi thường trú Quê quán "
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Trịnh Đào Mai Lâm Tô Hà Cao "
    "Văn Thị Hữu Đức Minh Quốc Thành Ngọc Thu Thanh Xuân Hồng Kim Thúy Phương Hoài Quang Tuấn Anh Bảo Gia "
    "Khánh Mạnh Trung Công Đình Hùng Dũng Cường Dung Hương Hạnh Hằng Hải Hà Huy Hòa Hiếu Hiền Linh Lan Long "
    "Nam Nga Nhung Phúc Quân Sơn Tâm Tùng Thảo Trang Tú Vy Yến Lê Lợi Trần Hưng Đạo Nguyễn Huệ Hai Bà Trưng "
    "Lý Thường Kiệt Quang Trung Hùng Vương Điện Biên Phủ Nguyễn Thị Minh Khai Cách Mạng Tháng Tám Võ Văn Kiệt "
    "Nguyễn Văn Linh Phạm Văn Đồng Lê Duẩn Trường Chinh Giải Phóng Láng Hạ Kim Mã Cầu Giấy Nguyễn Trãi "
    "Tôn Đức Thắng Phòng Cảnh sát giao thông Công an tỉnh Công an thành phố Cục Cảnh sát giao thông Bộ Công an "
    "Sở Giao thông vận tải Bộ Giao thông vận tải Cục Cảnh sát quản lý hành chính về trật tự xã hội "
    "Bảo hiểm xã hội Việt Nam Bảo hiểm xã hội tỉnh Bảo hiểm xã hội thành phố Việt Nam driving_licence "
    "chip_id_card vehicle_registration health_insurance_card vehicle_liability_insurance social_insurance_record "
    "sha256: gần chợ đối diện cạnh sau trước bên cạnh ngã ba ngã tư cầu bến xe siêu thị Trường Tiểu học "
    "Trường Trung học cơ sở Trường Trung học phổ thông Bệnh viện Trạm y tế Ủy ban nhân dân Nhà văn hóa "
    "Công ty Cổ phần Trách nhiệm hữu hạn Chi nhánh cây xăng liên hệ điện thoại nơi ở hiện tại địa chỉ "
    "tòa nhà chung cư khu đô thị mới "
)

_MOST_FREQUENT = (
    ", phường , quận , huyện , xã , thị xã , thị trấn , tỉnh , thành phố , Thành phố Hồ Chí Minh, "
    "Thành phố Hà Nội, Hà Nội, Phường , Quận , Huyện , Xã , Số , số , đường , Đường , ngõ , hẻm , ấp , "
    "thôn , tổ , khu phố , Tổ dân phố "
)

OFFLINE_DICTIONARY: bytes = (_WORDS + _PROVINCES + " " + _MOST_FREQUENT).encode("utf-8")
