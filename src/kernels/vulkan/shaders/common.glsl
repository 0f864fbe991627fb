// Included by every shader. Large 1-D workloads are dispatched as a 2-D grid (the host
// splits the group count so that no dimension passes maxComputeWorkGroupCount); this
// turns the grid position back into one workgroup index.
uint flat_workgroup() {
    return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
}
