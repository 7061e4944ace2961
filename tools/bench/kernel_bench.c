// Batched GEMV kernel vs OpenBLAS sgemm, one thread (BENCHMARKS.md, "Batched GEMV kernel"):
//   K=Sources/CSplitKernels; gcc -O3 -march=native -ffast-math -I$K/include tools/bench/kernel_bench.c \
//       $K/Gemv.c $K/Convert.c -lopenblas -o /tmp/kernel_bench && /tmp/kernel_bench
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "SplitKernels.h"
void openblas_set_num_threads(int);
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(){
  openblas_set_num_threads(1);
  int shapes[][2]={{576,576},{1536,576},{576,1536},{8192,576}};
  int ns[]={1,2,4,8,16,32,64,128};
  for(int s=0;s<4;s++){int R=shapes[s][0],C=shapes[s][1];
    float*w=malloc(4L*R*C); uint16_t*wh=malloc(2L*R*C); float*x=malloc(4L*128*C); float*y=malloc(4L*128*R); float*y2=malloc(4L*128*R); float*tile=malloc(4L*R*C);
    for(long i=0;i<(long)R*C;i++) w[i]=(rand()/(float)RAND_MAX-0.5f);
    split_f32_to_f16(w,wh,(size_t)R*C); split_f16_to_f32(wh,w,(size_t)R*C);
    for(long i=0;i<128L*C;i++) x[i]=(rand()/(float)RAND_MAX-0.5f);
    for(int k=0;k<8;k++){int n=ns[k]; int it= (int)(2e8/(2.0*R*C*n))+1;
      double t0=now(); for(int i=0;i<it;i++) split_gemm_f16(wh,x,n,y,R,0,R,C); double tk=(now()-t0)/it;
      t0=now(); for(int i=0;i<it;i++){ split_f16_to_f32(wh,tile,(size_t)R*C); cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,n,R,C,1,x,C,tile,C,0,y2,R);} double tb=(now()-t0)/it;
      t0=now(); for(int i=0;i<it;i++) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,n,R,C,1,x,C,w,C,0,y2,R); double tb32=(now()-t0)/it;
      // exactness vs gemv
      int same=1; for(int j=0;j<n;j++){ float yy[8192]; split_gemv_f16(wh,x+(long)j*C,yy,0,R,C); if(memcmp(yy,y+(long)j*R,4L*R)) same=0; }
      printf("%5dx%-5d n=%3d kernel %7.1f GF/s  f16tile+sgemm %7.1f GF/s  sgemm(f32) %7.1f GF/s  bitexact=%d\n",R,C,n,2.0*R*C*n/tk/1e9,2.0*R*C*n/tb/1e9,2.0*R*C*n/tb32/1e9,same);
    }
  }
}
