// The controller's register map (docs/cycle-model.md "Register map"): 32-bit
// registers at byte offsets, declared once in kRegisterMap with their access
// and fields; the TLM-2.0 target (Controller::b_transport) decodes accesses
// by it, and the host programs a layer through descriptor_registers().
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "layer_schedule.h"

namespace brsim {

namespace reg {
constexpr uint32_t kId = 0x00;
constexpr uint32_t kCtrl = 0x04;
constexpr uint32_t kStatus = 0x08;
constexpr uint32_t kCyclesLo = 0x0C;
constexpr uint32_t kCyclesHi = 0x10;
constexpr uint32_t kErrorCode = 0x14;
constexpr uint32_t kLayerCfg = 0x20;
constexpr uint32_t kInC = 0x24;
constexpr uint32_t kInH = 0x28;
constexpr uint32_t kInW = 0x2C;
constexpr uint32_t kOutM = 0x30;
constexpr uint32_t kKernel = 0x34;
constexpr uint32_t kStride = 0x38;
constexpr uint32_t kPad = 0x3C;
constexpr uint32_t kInAddr = 0x40;
constexpr uint32_t kWAddr = 0x44;
constexpr uint32_t kParamAddr = 0x48;
constexpr uint32_t kOutAddr = 0x4C;
constexpr uint32_t kSegCfg = 0x50;
constexpr uint32_t kPoolKernel = 0x54;
constexpr uint32_t kPoolStride = 0x58;
constexpr uint32_t kPoolPad = 0x5C;
constexpr uint32_t kBatch = 0x60;
constexpr uint32_t kInStride = 0x64;
constexpr uint32_t kOutStride = 0x68;
constexpr uint32_t kPsumAddr = 0x6C;
constexpr uint32_t kMapBytes = 0x70;
constexpr uint32_t kIdValue = 0x42525331;  // "BRS1"
constexpr uint32_t kStatusBusy = 1, kStatusDone = 2, kStatusError = 4;

// RO: writes are command errors; WO: reads give 0; Config: the layer
// descriptor, written only while the controller is idle.
enum class Access { RO, WO, Config };
struct Register {
  uint32_t offset;
  const char* name;
  Access access;
  const char* fields;
};
inline constexpr Register kRegisterMap[] = {
    {kId, "ID", Access::RO, "0x42525331 (\"BRS1\")"},
    {kCtrl, "CTRL", Access::WO, "bit 0 START, bit 1 IRQ_CLEAR"},
    {kStatus, "STATUS", Access::RO, "bit 0 BUSY, bit 1 DONE, bit 2 ERROR"},
    {kCyclesLo, "CYCLES_LO", Access::RO, "cycles of the last layer, low word"},
    {kCyclesHi, "CYCLES_HI", Access::RO, "cycles of the last layer, high word"},
    {kErrorCode, "ERROR_CODE", Access::RO, "1 bad descriptor, 2 DMA error, 3 internal"},
    {kLayerCfg, "LAYER_CFG", Access::Config, "bit 0 FC, bit 1 RELU, bits 3:2 POOL (0 none, 1 max, 2 avg), bit 4 PER_CHANNEL"},
    {kInC, "IN_C", Access::Config, "input channels"},
    {kInH, "IN_H", Access::Config, "input height"},
    {kInW, "IN_W", Access::Config, "input width"},
    {kOutM, "OUT_M", Access::Config, "output channels"},
    {kKernel, "KERNEL", Access::Config, "h in bits 15:0, w in bits 31:16"},
    {kStride, "STRIDE", Access::Config, "h in bits 15:0, w in bits 31:16"},
    {kPad, "PAD", Access::Config, "top, left, bottom, right (one byte each)"},
    {kInAddr, "IN_ADDR", Access::Config, "DRAM byte address of the input"},
    {kWAddr, "W_ADDR", Access::Config, "DRAM byte address of the weights"},
    {kParamAddr, "PARAM_ADDR", Access::Config, "DRAM byte address of the parameter table"},
    {kOutAddr, "OUT_ADDR", Access::Config, "DRAM byte address of the output"},
    {kSegCfg, "SEG_CFG", Access::Config, "n2 bits 7:0, p bit 8, K bits 19:16"},
    {kPoolKernel, "POOL_KERNEL", Access::Config, "as KERNEL"},
    {kPoolStride, "POOL_STRIDE", Access::Config, "as STRIDE"},
    {kPoolPad, "POOL_PAD", Access::Config, "as PAD"},
    {kBatch, "BATCH", Access::Config, "bits 7:0 images per batch - 1 (0: one image)"},
    {kInStride, "IN_STRIDE", Access::Config, "DRAM bytes from one image's input to the next (0: the input's own bytes)"},
    {kOutStride, "OUT_STRIDE", Access::Config, "DRAM bytes from one image's output to the next (0: the output's own bytes)"},
    {kPsumAddr, "PSUM_ADDR", Access::Config, "DRAM byte address of the partial-sum scratch area (a spilling schedule)"},
};
// The register at `offset` (an aligned offset inside the map), or null for a
// reserved word (reads 0, writes are command errors).
const Register* find_register(uint32_t offset);
}  // namespace reg

using RegisterFile = std::array<uint32_t, reg::kMapBytes / 4>;

// The register words of a descriptor (what the host writes), and back.
std::vector<std::pair<uint32_t, uint32_t>> descriptor_registers(const LayerDescriptor& d, int sqrt2_terms);
LayerDescriptor descriptor_from_registers(const RegisterFile& regs, int* sqrt2_terms);

}  // namespace brsim
